#include "layers/conv/conv_ops.hpp"

#include <algorithm>
#include <limits>

#include "layers/conv/im2col.hpp"
#include "layers/packed_gemm.hpp"
#include "weft/error.hpp"

namespace weft::builtin {
namespace {

// Per-group extents of the GEMMs over a block: W_g is (out_g × rows_g), cols_g is (rows_g × N)
// with N = nb·P, and the output block's group g is (out_g × N).
struct GroupDims {
  int out_g, rows_g, n;
  std::int64_t w_stride, cols_stride, y_stride;  // offsets from one group to the next
};
GroupDims group_dims(const ConvShape& s, std::int64_t nb) {
  const std::int64_t out_g = s.out_channels / s.groups, rows_g = s.column_rows() / s.groups;
  const std::int64_t n = nb * s.g.out_count();
  return {static_cast<int>(out_g), static_cast<int>(rows_g), static_cast<int>(n), out_g * rows_g, rows_g * n, out_g * n};
}

// Measured (benchmarks/conv_bench): one sample per GEMM is fastest while a sample's column
// matrix is wide (fashion_cnn: P = 676 and 121) — bigger blocks fall out of L2 and lose up to
// 40%; blocks win (~10%) only when P is small (P = 16: 4 samples). So: enough samples for 64
// columns, as long as the block stays within 64 K floats.
constexpr std::int64_t min_block_positions = 64;
constexpr std::int64_t max_block_floats = std::int64_t{1} << 16;

}  // namespace

std::int64_t ConvShape::block_samples(std::int64_t n) const {
  const std::int64_t p = g.out_count(), rows = std::max(column_rows(), out_channels);
  std::int64_t nb = (min_block_positions + p - 1) / p;
  while (nb > 1 && rows * nb * p > max_block_floats) --nb;
  return std::clamp<std::int64_t>(nb, 1, std::max<std::int64_t>(n, 1));
}

ConvBlocks conv_blocks(const ConvShape& s, Workspace& ws, std::int64_t n) {
  const std::int64_t p = s.g.out_count(), block = s.block_samples(n);
  // Enough for every block size a shard can end with: the weight gradient's depth is nb·P, and
  // packed_gemm's depth blocks are not monotone in it (256 stays whole, 257 splits in two of 136).
  std::size_t gemm_floats = 0;
  for (std::int64_t nb = 1; nb <= block; ++nb) {
    const GroupDims d = group_dims(s, nb);
    gemm_floats = std::max({gemm_floats, packed_gemm_scratch(d.out_g, d.n, d.rows_g),  // apply
                            packed_gemm_scratch(d.out_g, d.rows_g, d.n),               // weight gradient
                            packed_gemm_scratch(d.rows_g, d.n, d.out_g)});             // adjoint
  }
  return {n, p, block, ws.floats(columns_slot, static_cast<std::size_t>(s.column_rows() * block * p)).data(),
          ws.floats(block_slot, static_cast<std::size_t>(s.out_channels * block * p)).data(),
          ws.floats(gemm_slot, gemm_floats).data()};
}

void check_gemm_limits(const ConvShape& s, const std::string& type) {
  const std::int64_t entries = std::max(s.column_rows(), s.out_channels) * s.g.out_count();
  if (entries > std::numeric_limits<int>::max())
    throw ShapeError(type + " would need a column matrix of " + std::to_string(entries) +
                     " entries per sample; at most 2^31 - 1 are supported: use a smaller input, kernel or channel count");
}

const float* columns(const ConvShape& s, const float* x, std::int64_t nb, float* scratch) {
  if (nb == 1 && s.g.is_pointwise()) return x;
  const std::int64_t p = s.g.out_count();
  for (std::int64_t j = 0; j < nb; ++j) vol2col(x + j * s.in_size(), s.in_channels, s.g, scratch + j * p, nb * p);
  return scratch;
}

void apply(const ConvShape& s, const float* w, const float* cols, std::int64_t nb, float beta, float* out, float* gemm) {
  const GroupDims d = group_dims(s, nb);
  for (std::int64_t g = 0; g < s.groups; ++g)
    packed_gemm(Trans::no, Trans::no, d.out_g, d.n, d.rows_g, w + g * d.w_stride, d.rows_g, cols + g * d.cols_stride,
                d.n, beta, out + g * d.y_stride, d.n, gemm);
}

void add_weight_gradient(const ConvShape& s, const float* cols, const float* dy, std::int64_t nb, float* dw, float* gemm) {
  const GroupDims d = group_dims(s, nb);
  for (std::int64_t g = 0; g < s.groups; ++g)
    packed_gemm(Trans::no, Trans::yes, d.out_g, d.rows_g, d.n, dy + g * d.y_stride, d.n, cols + g * d.cols_stride, d.n,
                1.0f, dw + g * d.w_stride, d.rows_g, gemm);
}

void add_adjoint(const ConvShape& s, const float* w, const float* dy, std::int64_t nb, float* x, float* scratch,
                 float* gemm) {
  const GroupDims d = group_dims(s, nb);
  const bool direct = nb == 1 && s.g.is_pointwise();  // the columns are x itself: accumulate there
  float* cols = direct ? x : scratch;
  for (std::int64_t g = 0; g < s.groups; ++g)
    packed_gemm(Trans::yes, Trans::no, d.rows_g, d.n, d.out_g, w + g * d.w_stride, d.rows_g, dy + g * d.y_stride, d.n,
                direct ? 1.0f : 0.0f, cols + g * d.cols_stride, d.n, gemm);
  if (direct) return;
  const std::int64_t p = s.g.out_count();
  for (std::int64_t j = 0; j < nb; ++j) col2vol(cols + j * p, nb * p, s.in_channels, s.g, x + j * s.in_size());
}

const float* to_block(const float* samples, std::int64_t channels, std::int64_t positions, std::int64_t nb, float* scratch) {
  if (nb == 1) return samples;
  for (std::int64_t j = 0; j < nb; ++j)
    for (std::int64_t c = 0; c < channels; ++c)
      std::copy_n(samples + (j * channels + c) * positions, positions, scratch + (c * nb + j) * positions);
  return scratch;
}

void from_block(const float* block, std::int64_t channels, std::int64_t positions, std::int64_t nb, float* samples) {
  for (std::int64_t j = 0; j < nb; ++j)
    for (std::int64_t c = 0; c < channels; ++c)
      std::copy_n(block + (c * nb + j) * positions, positions, samples + (j * channels + c) * positions);
}

void fill_bias(const float* b, std::int64_t channels, std::int64_t positions, float* y) {
  for (std::int64_t c = 0; c < channels; ++c) std::fill_n(y + c * positions, positions, b[c]);
}

void add_bias_gradient(const float* dy, std::int64_t channels, std::int64_t positions, float* db) {
  // Eight running sums in a fixed order: vectorisable, and the same bits on every run.
  constexpr std::int64_t lanes = 8;
  for (std::int64_t c = 0; c < channels; ++c) {
    const float* row = dy + c * positions;
    float part[lanes] = {};
    std::int64_t p = 0;
    for (; p + lanes <= positions; p += lanes)
      for (std::int64_t l = 0; l < lanes; ++l) part[l] += row[p + l];
    float sum = 0;
    for (; p < positions; ++p) sum += row[p];
    for (std::int64_t l = 0; l < lanes; ++l) sum += part[l];
    db[c] += sum;
  }
}

}  // namespace weft::builtin
