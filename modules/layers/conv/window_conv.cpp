#include "layers/conv/window_conv.hpp"

#include <algorithm>
#include <cstring>

#include "layers/conv/grid_copy.hpp"
#include "layers/conv/lane_gradient.hpp"
#include "layers/conv/window_kernels.hpp"
#include "layers/pool_kernels.hpp"
#include "vector_clones.hpp"

namespace weft::builtin {
namespace {

using Extents = WindowGeometry::Extents;
using Grid = WindowConv::Grid;

// Workspace slots (the layer takes this path or the im2col one, never both).
enum Slot : std::size_t {
  padded_slot, result_slot, panel_slot, init_slot, dy_grid_slot, transposed_slot, accumulator_slot, dx_grid_slot,
  bias_lanes_slot
};

// Depths (input channels per group × kernel positions) up to this take the weight gradient along
// positions (lane_gradient.hpp) rather than gradient_product's tiles, whose transpose and padding
// of the depth to whole tiles cost more than the product there. conv_bench, backward: 1 × 28 × 28
// → 32 (depth 9) and 3 × 32 × 32 → 32 (27) are faster along positions, 16 × 256 → 32 (48) 30 %
// slower (the gradient is read once per tile of 12 rows).
constexpr std::int64_t lane_gradient_max_depth = 27;
// Filters whose gradient planes are written and read together when only the weight gradient is
// wanted: 8 planes of a 28 × 28 grid take 23 KB, within L1 with the input.
constexpr std::int64_t lane_filter_block = 8;
// Forward's block of filter rows over a small input (forward_each): a whole AVX-512 tile.
constexpr std::int64_t forward_row_block = 8;
// Rows of the input gradient's column matrix computed and added back at a time.
constexpr std::int64_t column_row_block = 32;

// Tiles read up to window_cols − 1 floats past the last position they keep.
constexpr std::int64_t read_slack = window_cols;

std::int64_t round_up(std::int64_t v, std::int64_t m) { return (v + m - 1) / m * m; }

Grid make_grid(const Extents& extents, std::size_t dims) {
  Grid g;
  g.extents = extents;
  g.volume = 1;
  for (std::size_t d = dims; d-- > 0;) {
    g.strides[d] = g.volume;
    g.volume *= extents[d];
  }
  return g;
}

std::int64_t flat(const Grid& g, const Extents& at, std::size_t dims) {
  std::int64_t q = 0;
  for (std::size_t d = 0; d < dims; ++d) q += at[d] * g.strides[d];
  return q;
}

// Calls row(dense, grid) for each row (last axis) of a box of extents `box` placed at flat
// position `origin` of `g`: `dense` indexes the box packed row-major, `grid` the grid.
template <class Row>
void for_each_box_row(const Grid& g, std::int64_t origin, const Extents& box, std::size_t dims, Row row) {
  const std::size_t last = dims - 1;
  Extents at{};
  std::int64_t dense = 0;
  while (true) {
    std::int64_t grid = origin;
    for (std::size_t d = 0; d < last; ++d) grid += at[d] * g.strides[d];
    row(dense, grid);
    dense += box[last];
    std::size_t d = last;
    while (d-- > 0) {
      if (++at[d] < box[d]) break;
      at[d] = 0;
    }
    if (d == static_cast<std::size_t>(-1)) return;
  }
}

// Offsets of the kernel positions κ·dilation in `g`, in κ's row-major order.
std::vector<std::int64_t> kernel_offsets(const WindowGeometry& w, const Grid& g) {
  std::vector<std::int64_t> out;
  Extents k{};
  for (std::int64_t i = 0; i < w.kernel_count(); ++i) {
    std::int64_t q = 0;
    for (std::size_t d = 0; d < w.dims; ++d) q += k[d] * w.dilation[d] * g.strides[d];
    out.push_back(q);
    for (std::size_t d = w.dims; d-- > 0;) {
      if (++k[d] < w.kernel[d]) break;
      k[d] = 0;
    }
  }
  return out;
}

// (channel, κ) rows of one group: channel · volume + κ offset.
std::vector<std::int64_t> row_offsets(std::int64_t channels, std::int64_t volume, const std::vector<std::int64_t>& kernel) {
  std::vector<std::int64_t> out;
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t k : kernel) out.push_back(c * volume + k);
  return out;
}

// The rows of a box of extents `box` placed at flat position `origin` of `g`.
RowMap row_map(const Grid& g, std::int64_t origin, const Extents& box, std::size_t dims) {
  RowMap map;
  map.length = box[dims - 1];
  for_each_box_row(g, origin, box, dims, [&](std::int64_t dense, std::int64_t grid) {
    map.dense.push_back(dense);
    map.grid.push_back(grid);
  });
  return map;
}

// Flat positions from a box's first row start to its last element.
std::int64_t span_of(const RowMap& rows) { return rows.grid.back() + rows.length; }

// Packs rows [row0, row0 + rows) of a (total_rows × depth) matrix, given by element(row, k),
// into window_rows-row panels (k-major within a panel), zero rows past the end.
template <class Element>
void pack_panels(std::int64_t rows, std::int64_t depth, float* panel, Element element) {
  for (std::int64_t t = 0; t < rows; t += window_rows)
    for (std::int64_t k = 0; k < depth; ++k)
      for (std::int64_t r = 0; r < window_rows; ++r)
        *panel++ = t + r < rows ? element(t + r, k) : 0.0f;
}

// grid[offsets[r] + p] += rows[r·ld + p] for p < span, r in order: the column matrix of an input
// gradient folded back onto the input grid (each element sums its rows in ascending r). In the
// widest vectors the CPU has: the same additions in any of them.
WEFT_VECTOR_CLONES void add_shifted_rows(const float* rows, std::int64_t ld, const std::int64_t* offsets, std::int64_t count,
                                         std::int64_t span, float* grid) {
  for (std::int64_t r = 0; r < count; ++r) {
    const float* __restrict src = rows + static_cast<std::int64_t>(r) * ld;
    float* __restrict dst = grid + offsets[r];
    for (std::int64_t p = 0; p < span; ++p) dst[p] += src[p];
  }
}

}  // namespace

std::int64_t WindowConv::output_span() const { return span_of(output_rows_); }

bool WindowConv::supports(const ConvShape& s) {
  for (std::size_t d = 0; d < s.g.dims; ++d)
    if (s.g.stride[d] != 1) return false;
  return true;
}

WindowConv::WindowConv(const ConvShape& s) : s_(s) {
  const WindowGeometry& w = s.g;
  kernel_count_ = w.kernel_count();
  in_group_ = s.in_channels / s.groups;
  out_group_ = s.out_channels / s.groups;
  Extents padded{};
  for (std::size_t d = 0; d < w.dims; ++d)
    padded[d] = w.out[d] + w.dilation[d] * (w.kernel[d] - 1);  // >= in + pad_before: stride-1 padding is never negative
  input_grid_ = make_grid(padded, w.dims);
  unpadded_ = input_grid_.volume == w.in_count();
  output_rows_ = row_map(input_grid_, 0, w.out, w.dims);
  forward_offsets_ = row_offsets(in_group_, input_grid_.volume, kernel_offsets(w, input_grid_));
  gradient_offsets_ = forward_offsets_;
  gradient_offsets_.resize(static_cast<std::size_t>(round_up(in_group_ * kernel_count_, gradient_rows)), 0);
  for (std::int64_t f = 0; f < out_group_; ++f) filter_offsets_.push_back(f * gradient_positions());
  input_rows_ = row_map(input_grid_, flat(input_grid_, w.pad_before, w.dims), w.in, w.dims);
  pooled_rows_ = w.dims == 2 && w.out[0] >= 2 && w.out[1] >= 2
                     ? row_map(input_grid_, 0, {w.out[0] / 2 * 2, w.out[1] / 2 * 2}, w.dims)
                     : output_rows_;
}

const float* WindowConv::padded_input(const float* x, std::int64_t i, std::int64_t n, float* scratch) const {
  // Without padding the grid is the sample itself. Tiles read up to read_slack floats past a
  // sample, into the following ones (only into dropped positions); a sample with fewer than
  // read_slack floats of the shard after it is copied.
  if (unpadded_ && (n - 1 - i) * s_.in_size() >= read_slack) return x + i * s_.in_size();
  dense_to_grid(input_rows_, x + i * s_.in_size(), s_.g.in_count(), s_.in_channels, scratch, input_grid_.volume);
  return scratch;
}

template <class Store>
void WindowConv::forward_each(const float* w, const float* bias, const float* x, std::int64_t n, const RowMap& needed,
                              Workspace& ws, Store&& store) const {
  const std::int64_t depth = in_group_ * kernel_count_, rows = round_up(out_group_, window_rows);
  const std::int64_t ld = round_up(output_span(), window_cols), span = span_of(needed);
  const std::size_t padded_size = static_cast<std::size_t>(s_.in_channels * input_grid_.volume + read_slack);
  float* padded = ws.floats(padded_slot, padded_size).data();
  float* result = ws.floats(result_slot, static_cast<std::size_t>(s_.groups * rows * ld)).data();
  float* panels = ws.floats(panel_slot, static_cast<std::size_t>(s_.groups * rows * depth)).data();
  float* init = ws.floats(init_slot, static_cast<std::size_t>(s_.groups * rows)).data();
  std::fill_n(padded, padded_size, 0.0f);
  for (std::int64_t grp = 0; grp < s_.groups; ++grp) {
    const float* wg = w + grp * out_group_ * depth;
    pack_panels(out_group_, depth, panels + grp * rows * depth, [&](std::int64_t f, std::int64_t k) { return wg[f * depth + k]; });
    for (std::int64_t f = 0; f < rows; ++f) init[grp * rows + f] = bias && f < out_group_ ? bias[grp * out_group_ + f] : 0.0f;
  }
  // A group's input small enough to stay in L1 is read once per block of filter rows, whose
  // grid is taken out while it is in L1 too (fashion_cnn's first layer: a 98 KB grid for 32
  // filters, 3 KB of input); a larger one once per column of tiles, all rows at a time.
  const std::int64_t block = in_group_ * input_grid_.volume * 4 <= 16384 ? forward_row_block : rows;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* xi = padded_input(x, i, n, padded);
    for (std::int64_t grp = 0; grp < s_.groups; ++grp)
      for (std::int64_t f = 0; f < out_group_; f += block) {
        const std::int64_t block_rows = std::min(block, rows - f);
        float* rg = result + (grp * rows + f) * ld;
        window_product(panels + (grp * rows + f) * depth, block_rows, forward_offsets_.data(), depth,
                       xi + grp * in_group_ * input_grid_.volume, init + grp * rows + f, span, rg, ld);
        store(i, grp, f, std::min(block, out_group_ - f), rg, ld);
      }
  }
}

template <class Fill>
void WindowConv::backward_each(const float* w, const float* x, std::int64_t n, const RowMap& needed, float* dx,
                               float* dw, float* db, Workspace& ws, Fill&& fill_dy_grid) const {
  const WindowGeometry& g = s_.g;
  const std::int64_t depth = in_group_ * kernel_count_;
  const std::int64_t filters = round_up(out_group_, gradient_cols);  // columns of the transposed gradient
  const std::int64_t positions = gradient_positions(), span = span_of(needed);
  const PositionRuns runs{needed.grid.data(), static_cast<std::int64_t>(needed.grid.size()), needed.length};
  const auto grad_rows = static_cast<std::int64_t>(gradient_offsets_.size());
  const std::size_t padded_size = static_cast<std::size_t>(s_.in_channels * input_grid_.volume + read_slack);
  float* padded = ws.floats(padded_slot, padded_size).data();
  // The output gradient in grid positions (dropped positions and padding filters zero); for
  // gradient_product, also position-major in blocks of gradient_cols filters, each (positions ×
  // gradient_cols). read_slack: the input gradient's tiles read past the last filter's row.
  float* dy_grid = ws.floats(dy_grid_slot, static_cast<std::size_t>(filters * positions + read_slack)).data();
  std::fill_n(padded, padded_size, 0.0f);
  std::fill_n(dy_grid, filters * positions + read_slack, 0.0f);
  // Per group: gradient_product's accumulator (grad_rows × filters), or the lanes of
  // lane_gradient_product (out_group_ × depth × gradient_lanes) and of the bias.
  const bool by_lanes = depth <= lane_gradient_max_depth;
  const std::int64_t acc_size = by_lanes ? depth * out_group_ * gradient_lanes : grad_rows * filters;
  float* acc = ws.floats(accumulator_slot, static_cast<std::size_t>(s_.groups * acc_size)).data();
  std::fill_n(acc, s_.groups * acc_size, 0.0f);
  float *transposed = nullptr, *bias_lanes = nullptr;
  if (!by_lanes) transposed = ws.floats(transposed_slot, static_cast<std::size_t>(filters * positions)).data();
  if (by_lanes && db) {
    bias_lanes = ws.floats(bias_lanes_slot, static_cast<std::size_t>(s_.out_channels * gradient_lanes)).data();
    std::fill_n(bias_lanes, s_.out_channels * gradient_lanes, 0.0f);
  }

  // The input gradient: first its column matrix, Wᵀ · dy over the output positions (rows (c, κ)
  // of the group, read from dy_grid in place), then each row added into the input grid at its
  // shift. Only output positions are multiplied; gathering from a padded output gradient instead
  // multiplied the padding zeros too (56 % useful work on fashion_cnn's second layer, not 86 %).
  const std::int64_t column_rows = round_up(depth, window_rows), column_ld = round_up(output_span(), window_cols);
  float *columns = nullptr, *panels = nullptr, *zero_init = nullptr, *dx_grid = nullptr;
  if (dx) {
    columns = ws.floats(result_slot, static_cast<std::size_t>(std::min(column_rows, column_row_block) * column_ld)).data();
    panels = ws.floats(panel_slot, static_cast<std::size_t>(s_.groups * column_rows * out_group_)).data();
    zero_init = ws.floats(init_slot, static_cast<std::size_t>(column_rows)).data();
    std::fill_n(zero_init, column_rows, 0.0f);
    if (!unpadded_) dx_grid = ws.floats(dx_grid_slot, static_cast<std::size_t>(in_group_ * input_grid_.volume)).data();
    for (std::int64_t grp = 0; grp < s_.groups; ++grp) {
      const float* wg = w + grp * out_group_ * depth;
      pack_panels(depth, out_group_, panels + grp * column_rows * out_group_,
                  [&](std::int64_t r, std::int64_t f) { return wg[f * depth + r]; });
    }
  }
  if (db && !by_lanes) std::fill_n(db, s_.out_channels, 0.0f);
  // When only the lane gradient reads the gradient planes, a few at a time, each product reading
  // them from L1 right after they are written (fashion_cnn's first layer: 93 KB a sample).
  const std::int64_t fill_block = by_lanes && !dx ? lane_filter_block : out_group_;

  // The bias gradient is summed from dy_grid, whose dropped positions stay zero (fill_dy_grid
  // writes output positions only).
  for (std::int64_t i = 0; i < n; ++i) {
    const float* xi = padded_input(x, i, n, padded);
    for (std::int64_t grp = 0; grp < s_.groups; ++grp) {
      const float* xg = xi + grp * in_group_ * input_grid_.volume;
      float* accg = acc + grp * acc_size;
      for (std::int64_t f = 0; f < out_group_; f += fill_block) {
        const std::int64_t count = std::min(fill_block, out_group_ - f);
        fill_dy_grid(i, grp, f, count, dy_grid, positions);
        if (by_lanes)
          lane_gradient_product(forward_offsets_.data(), depth, xg, dy_grid, positions, count, span,
                                accg + f * depth * gradient_lanes,
                                bias_lanes ? bias_lanes + (grp * out_group_ + f) * gradient_lanes : nullptr);
      }
      if (!by_lanes) {
        if (db) add_bias_gradient(dy_grid, out_group_, positions, db + grp * out_group_);
        for (std::int64_t f = 0; f < filters; f += gradient_cols)
          transpose_blocks(dy_grid + f * positions, positions, gradient_cols, positions, transposed + f * positions,
                           gradient_cols);
        gradient_product(gradient_offsets_.data(), grad_rows, xg, transposed, positions, filters, runs, accg, filters);
      }
      if (dx) {
        float* dxg = dx + i * s_.in_size() + grp * in_group_ * g.in_count();
        float* target = unpadded_ ? dxg : dx_grid;
        std::fill_n(target, in_group_ * input_grid_.volume, 0.0f);
        // In blocks of rows whose columns stay in L1 until they are added (ascending rows: the
        // same sums as one block).
        for (std::int64_t r = 0; r < depth; r += column_row_block) {
          const std::int64_t block_rows = std::min(column_row_block, column_rows - r);
          window_product(panels + grp * column_rows * out_group_ + r * out_group_, block_rows, filter_offsets_.data(),
                         out_group_, dy_grid, zero_init, span, columns, column_ld);
          add_shifted_rows(columns, column_ld, forward_offsets_.data() + r, std::min(block_rows, depth - r), span,
                           target);
        }
        if (!unpadded_) grid_to_dense(input_rows_, dx_grid, input_grid_.volume, in_group_, dxg, g.in_count(), false);
      }
    }
  }
  // dw (filters, channels/groups, κ...) is the transpose of each group's accumulator.
  for (std::int64_t grp = 0; grp < s_.groups; ++grp)
    for (std::int64_t f = 0; f < out_group_; ++f)
      for (std::int64_t k = 0; k < depth; ++k)
        dw[(grp * out_group_ + f) * depth + k] =
            by_lanes ? lane_sum(acc + grp * acc_size + (f * depth + k) * gradient_lanes)
                     : acc[grp * acc_size + k * filters + f];
  if (bias_lanes)
    for (std::int64_t c = 0; c < s_.out_channels; ++c) db[c] = lane_sum(bias_lanes + c * gradient_lanes);
}

void WindowConv::forward(const float* w, const float* bias, const float* x, std::int64_t n, bool relu, float* y,
                         Workspace& ws) const {
  const std::int64_t out_count = s_.g.out_count();
  forward_each(w, bias, x, n, output_rows_, ws,
               [&](std::int64_t i, std::int64_t grp, std::int64_t f, std::int64_t count, const float* rg, std::int64_t ld) {
                 grid_to_dense(output_rows_, rg, ld, count, y + i * s_.out_size() + (grp * out_group_ + f) * out_count,
                               out_count, relu);
               });
}

void WindowConv::backward(const float* w, const float* x, const float* relu_output, const float* dy, std::int64_t n,
                          float* dx, float* dw, float* db, Workspace& ws) const {
  // dy goes through relu's gradient (with relu_output) on its way into the grid.
  const std::int64_t out_count = s_.g.out_count();
  backward_each(w, x, n, output_rows_, dx, dw, db, ws,
                [&](std::int64_t i, std::int64_t grp, std::int64_t f, std::int64_t count, float* dy_grid,
                    std::int64_t positions) {
                  const std::int64_t first = i * s_.out_size() + (grp * out_group_ + f) * out_count;
                  dense_to_grid(output_rows_, dy + first, out_count, count, dy_grid, positions,
                                relu_output ? relu_output + first : nullptr);
                });
}

void WindowConv::forward_max_pool_2x2(const float* w, const float* bias, const float* x, std::int64_t n, bool relu,
                                      float* y, std::int32_t* argmax, Workspace& ws) const {
  // relu is applied by the pooling, to the pooled values only (pool_kernels.hpp).
  const PooledPlane p = pooled_plane();
  forward_each(w, bias, x, n, pooled_rows_, ws,
               [&](std::int64_t i, std::int64_t grp, std::int64_t f0, std::int64_t count, float* rg, std::int64_t ld) {
                 for (std::int64_t f = 0; f < count; ++f) {
                   const std::int64_t first = (i * s_.out_channels + grp * out_group_ + f0 + f) * p.count();
                   max_pool_2x2_plane(rg + f * ld, p.grid_width, p.height, p.width, relu, argmax + first, y + first);
                 }
               });
}

void WindowConv::backward_max_pool_2x2(const float* w, const float* x, const float* y, const std::int32_t* argmax,
                                       const float* dy, std::int64_t n, bool relu, float* dx, float* dw, float* db,
                                       Workspace& ws) const {
  // The pooled gradient goes to each window's argmax (route_2x2_plane writes the other three
  // elements 0), through relu's gradient first: the convolution's output at the argmax is the
  // pooled value, so y > 0 is the mask the convolution's own backward would have applied there.
  const PooledPlane p = pooled_plane();
  backward_each(w, x, n, pooled_rows_, dx, dw, db, ws,
                [&](std::int64_t i, std::int64_t grp, std::int64_t f0, std::int64_t count, float* dy_grid,
                    std::int64_t positions) {
                  for (std::int64_t f = 0; f < count; ++f) {
                    const std::int64_t first = (i * s_.out_channels + grp * out_group_ + f0 + f) * p.count();
                    route_2x2_plane(dy + first, relu ? y + first : nullptr, argmax + first, p.grid_width, p.height,
                                    p.width, dy_grid + f * positions);
                  }
                });
}

WindowConv::PooledPlane WindowConv::pooled_plane() const {
  return {s_.g.out[0] / 2, s_.g.out[1] / 2, input_grid_.extents[1]};
}

}  // namespace weft::builtin
