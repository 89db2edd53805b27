#pragma once
// Moving rows between a dense volume and a padded, flattened grid (window_conv.hpp): the copies
// around the shifted-window products. Rows are short (11 to 28 floats on fashion_cnn), so a
// memcpy call per row cost more than the copy itself; these copy whole vectors and finish each
// row with one masked vector, never touching a float outside the row.
#include <cstdint>
#include <vector>

namespace weft::builtin {

// Where each row of a box starts in the dense (packed row-major) box and in the grid.
struct RowMap {
  std::vector<std::int64_t> dense, grid;
  std::int64_t length = 0;  // floats per row: the box's last extent
};

// For c < channels and every row i: dense[c·dense_stride + map.dense[i] + j] =
// grid[c·grid_stride + map.grid[i] + j] for j < length, through relu when `relu`.
void grid_to_dense(const RowMap& map, const float* grid, std::int64_t grid_stride, std::int64_t channels, float* dense,
                   std::int64_t dense_stride, bool relu);

// The inverse: grid rows = dense rows; the rest of the grid is left as it is. With
// `relu_output` (laid out like `dense`), each value is multiplied by 1 where relu_output > 0 and
// by 0 elsewhere: a gradient through relu, with mask_relu_gradient's bits (fused_activation.hpp).
void dense_to_grid(const RowMap& map, const float* dense, std::int64_t dense_stride, std::int64_t channels, float* grid,
                   std::int64_t grid_stride, const float* relu_output = nullptr);

}  // namespace weft::builtin
