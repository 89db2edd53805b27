#pragma once
// The weight and bias gradients of a shifted-window convolution of small depth (few input
// channels × kernel positions, such as a first layer on one-channel images), read from the
// output gradient as it lies, filter-major (window_conv.hpp).
//
// gradient_product (window_kernels.hpp) wants the output gradient position-major, so each sample
// pays a transpose of it, and its tiles are gradient_rows deep: at depth 9 a quarter of them is
// padding. Here vectors run along positions instead, each (row, filter) pair keeping
// gradient_lanes partial sums: no transpose, no padded rows, and the bias gradient (the sum of
// each filter's row) taken in the same pass. On fashion_cnn's first layer the transpose and the
// separate bias pass cost as much as the product itself.
//
// Lane j of a pair takes the positions q ≡ j (mod gradient_lanes) in ascending q, one fused
// multiply-add each, sample after sample; lane_sum adds the lanes once, when the pass is done.
// Every version (AVX-512, AVX2, portable) runs these same operations: the same bits.
#include <cstdint>

namespace weft::builtin {

constexpr int gradient_lanes = 16;

// For r < rows, f < filters and j < gradient_lanes:
//   lanes[(f·rows + r)·gradient_lanes + j] += Σ x[offsets[r] + q] · d[f·positions + q],
//   bias_lanes[f·gradient_lanes + j] += Σ d[f·positions + q]   (when bias_lanes is not null),
// both over q < length with q ≡ j (mod gradient_lanes).
void lane_gradient_product(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                           std::int64_t positions, std::int64_t filters, std::int64_t length, float* lanes,
                           float* bias_lanes);

// The gradient_lanes partial sums at `lanes` added up, in halves (lane j + lane j + 8, then + 4,
// + 2, + 1): one order for every version.
float lane_sum(const float* lanes);

}  // namespace weft::builtin
