#pragma once
// The inner loops of 2 × 2, stride-2 max pooling over one output row of a plane, vectorised
// where the CPU allows (picked by layers/vector_isa.hpp). An AVX-512 version, sixteen windows per
// block with k-masked row ends, was 1.2× slower on a Zen 5 EPYC than this AVX2 one.
#include <cstdint>

namespace weft::builtin {

// For ox < count, window ox reads plane[top + 2·ox], plane[top + 2·ox + 1], plane[bottom + 2·ox],
// plane[bottom + 2·ox + 1] in that order; index[ox] = the first of its largest elements (an index
// into the plane), y[ox] = its value. Returns false, leaving the row's results unspecified, when
// some window holds a NaN: the caller applies the NaN rule.
bool max_2x2_row(const float* plane, std::int32_t top, std::int32_t bottom, std::int64_t count, std::int32_t* index,
                 float* y);

// max_2x2_row with max pooling's NaN rule: a window holding a NaN takes its first NaN (in the
// order above) as index and a quiet NaN as y, so a NaN propagates as in PyTorch.
void max_2x2_row_nan_rule(const float* plane, std::int32_t top, std::int32_t bottom, std::int64_t count,
                          std::int32_t* index, float* y);

// The backward pass over the same row of windows: the four plane elements of window ox get
// 0 + dy[ox] (a −0 becomes +0, as adding it to a zeroed plane would) where index[ox] points,
// 0 elsewhere; every element of the 2·count columns of rows top and bottom is written.
void route_2x2_row(const float* dy, const std::int32_t* index, std::int32_t top, std::int32_t bottom,
                   std::int64_t count, float* dx_plane);

}  // namespace weft::builtin
