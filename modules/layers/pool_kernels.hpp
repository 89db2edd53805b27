#pragma once
// 2 × 2, stride-2 max pooling over a whole plane, and its backward, vectorised where the CPU
// allows (picked by layers/vector_isa.hpp, once per plane): AVX2 vectors of eight windows, on
// AVX-512 CPUs too. A full AVX-512 version, sixteen windows per block, was 1.2× slower on a Zen 5
// EPYC than the AVX2 one, and AVX-512VL's k-masked moves for rows shorter than eight windows
// measured the same as AVX2's masked ones.
//
// A plane is a row-major grid `grid_width` floats wide; window (oy, ox), for oy < height and
// ox < width, reads its four slots in the order plane[top + 2·ox], plane[top + 2·ox + 1],
// plane[top + grid_width + 2·ox], plane[top + grid_width + 2·ox + 1], top = 2·oy·grid_width.
// Pooled outputs and indices are dense: window (oy, ox) is element oy·width + ox.
#include <cstdint>

namespace weft::builtin {

// y = each window's largest element, index = the first of its largest elements (a plane index).
// A window holding a NaN takes its first NaN as index and a quiet NaN as y, so a NaN propagates
// as in PyTorch. With `relu`, the results are those of pooling relu(plane) (relu and max
// commute; the plane itself is not changed): the same y bits, a −0 included, and an index whose
// gradient route_2x2_plane masks the same way where y is not positive.
void max_pool_2x2_plane(const float* plane, std::int64_t grid_width, std::int64_t height, std::int64_t width, bool relu,
                        std::int32_t* index, float* y);

// The backward pass over the same windows: the four slots of window w get 0 + g[w] (a −0
// becomes +0, as adding it to a zeroed plane would) where index[w] points, 0 elsewhere, with
// g = dy, or dy · (relu_y > 0 ? 1 : 0) when relu_y (the pooled output of a relu'd plane) is
// given: relu's gradient, the same products as mask_relu_gradient (fused_activation.hpp).
// Writes every element of columns [0, 2·width) of rows [0, 2·height) and nothing else.
void route_2x2_plane(const float* dy, const float* relu_y, const std::int32_t* index, std::int64_t grid_width,
                     std::int64_t height, std::int64_t width, float* dx_plane);

}  // namespace weft::builtin
