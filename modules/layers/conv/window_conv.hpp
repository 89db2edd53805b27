#pragma once
// Stride-1 convolution without a column matrix ("shifted windows").
//
// Pad each channel of a sample into a volume of extents G = out + dilation·(kernel − 1) and
// flatten it. Output position o then reads, for kernel offset κ, the element at
// flat(o) + flat(κ·dilation) — the same shift for every o. So row κ of the im2col matrix is the
// flattened volume itself, shifted, and the product W · columns can read the input in place:
// y at flat position q = Σ_k W[f, k] · x_padded[offset[k] + q]. Positions q that are not an
// output (the last dilation·(kernel − 1) of every row) are computed and dropped: on fashion_cnn
// that wastes 2 of every 13 or 28 columns, far less than writing and re-reading the columns.
// The input gradient's column matrix is Wᵀ times the output gradient at the output positions
// (no column matrix of the input is needed, and no padding zeros are multiplied); its rows are
// then added back at their shifts. The weight gradient reads the input the same way as forward
// (window_kernels.hpp).
//
// Any number of spatial axes, groups, dilation and padding; strides must be 1 (others take the
// im2col path in conv_ops.hpp). Sample by sample, so results never depend on how a batch is
// sharded or on the thread count.
#include <cstdint>
#include <vector>

#include "layers/conv/conv_ops.hpp"
#include "layers/conv/grid_copy.hpp"

namespace weft::builtin {

class WindowConv {
 public:
  static bool supports(const ConvShape& s);
  WindowConv() = default;
  explicit WindowConv(const ConvShape& s);

  // y (n, out_channels, out...) = conv(x) + bias (bias may be null), through relu when `relu`;
  // written completely.
  void forward(const float* w, const float* bias, const float* x, std::int64_t n, bool relu, float* y,
               Workspace& ws) const;
  // Writes dw completely, db (when not null) and dx (when not null) completely. `relu_output`
  // is y of a forward pass with relu (its gradient mask), or null.
  void backward(const float* w, const float* x, const float* relu_output, const float* dy, std::int64_t n, float* dx,
                float* dw, float* db, Workspace& ws) const;

  // 2-d only: the convolution followed by 2 × 2, stride-2 max pooling, without writing the
  // convolution's output (a layer fusion, weft/layer_fusion.hpp). y (n, out_channels, out / 2)
  // is the pooled output, of relu(convolution) when `relu` (max_pool_2x2_plane gives those bits
  // without a pass of relu over the grid); argmax (same layout) receives each window's argmax as
  // a position of the input grid, for the backward pass.
  void forward_max_pool_2x2(const float* w, const float* bias, const float* x, std::int64_t n, bool relu, float* y,
                            std::int32_t* argmax, Workspace& ws) const;
  // The gradients of the fused pair from dy (n, out_channels, out / 2), given forward's y and
  // argmax: the same values as the convolution's backward after the pool's.
  void backward_max_pool_2x2(const float* w, const float* x, const float* y, const std::int32_t* argmax,
                             const float* dy, std::int64_t n, bool relu, float* dx, float* dw, float* db,
                             Workspace& ws) const;

  // A padded, flattened volume layout: extents, row-major strides, per-channel volume.
  struct Grid {
    WindowGeometry::Extents extents{}, strides{};
    std::int64_t volume = 0;
  };

 private:
  // Sample i of x laid out in the input grid: x itself when there is no padding, else `scratch`.
  const float* padded_input(const float* x, std::int64_t i, std::int64_t n, float* scratch) const;

  // forward_each runs the products of every sample and group into a grid and hands filters
  // [first, first + count) of the group to store(sample, group, first, count, grid rows, row
  // stride), which takes the output from there (filter first + j in row j); backward_each
  // asks fill_dy_grid(sample, group, first filter, count, dy_grid, row stride) to write the
  // output gradient of filters [first, first + count) of the group at the output positions of
  // that grid, filter first + j in row j (the rest stays zero), then computes the three gradients.
  //
  // Both compute the output positions in `needed` (rows of the input grid): all of them
  // (output_rows_), or those a fused 2 × 2 pooling reads (pooled_rows_). Outside them store()
  // gets no values and fill_dy_grid() writes none.
  template <class Store>
  void forward_each(const float* w, const float* bias, const float* x, std::int64_t n, const RowMap& needed,
                    Workspace& ws, Store&& store) const;
  template <class Fill>
  void backward_each(const float* w, const float* x, std::int64_t n, const RowMap& needed, float* dx, float* dw,
                     float* db, Workspace& ws, Fill&& fill_dy_grid) const;

  // The pooled output of one filter: height × width windows on a grid `grid_width` wide.
  struct PooledPlane {
    std::int64_t height, width, grid_width;
    std::int64_t count() const { return height * width; }
  };
  PooledPlane pooled_plane() const;

  // Positions per filter row of the output gradient in the input grid (dy_grid): the span,
  // rounded up for transpose_blocks' 8 × 8 blocks.
  std::int64_t gradient_positions() const { return (output_span() + 7) / 8 * 8; }
  std::int64_t output_span() const;  // flat positions from the first output to the last

  ConvShape s_;
  bool unpadded_ = false;  // the input grid is the input itself
  std::int64_t kernel_count_ = 0, in_group_ = 0, out_group_ = 0;  // channels per group
  Grid input_grid_;         // the padded input; output positions are its first positions
  std::vector<std::int64_t> forward_offsets_;   // per column-matrix row (channel, κ) of a group
  std::vector<std::int64_t> gradient_offsets_;  // the same, padded to whole gradient tiles
  std::vector<std::int64_t> filter_offsets_;    // per filter of a group, its row in dy_grid
  RowMap input_rows_;   // the input in the input grid
  RowMap output_rows_;  // the output in the input grid's positions
  // The outputs a fused 2 × 2 pooling reads (2-d only): an odd extent's last row and column are
  // never pooled (100 of 121 on fashion_cnn's second layer).
  RowMap pooled_rows_;
};

}  // namespace weft::builtin
