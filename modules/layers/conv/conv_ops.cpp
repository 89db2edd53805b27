#include "layers/conv/conv_ops.hpp"

#include <algorithm>

#include "layers/conv/im2col.hpp"
#include "weft/blas.hpp"

namespace weft::builtin {
namespace {

// Per-group extents of the GEMMs: W_g is (out_g × rows_g), cols_g is (rows_g × P).
struct GroupDims {
  int out_g, rows_g, positions;
  std::int64_t w_stride, cols_stride, y_stride;  // offsets from one group to the next
};
GroupDims group_dims(const ConvShape& s) {
  const std::int64_t out_g = s.out_channels / s.groups, rows_g = s.in_channels / s.groups * s.g.kernel_count();
  const std::int64_t p = s.g.out_count();
  return {static_cast<int>(out_g), static_cast<int>(rows_g), static_cast<int>(p), out_g * rows_g, rows_g * p, out_g * p};
}

}  // namespace

const float* columns(const ConvShape& s, const float* x, float* scratch) {
  if (s.g.is_pointwise()) return x;
  vol2col(x, s.in_channels, s.g, scratch);
  return scratch;
}

void apply(const ConvShape& s, const float* w, const float* cols, float beta, float* y) {
  const GroupDims d = group_dims(s);
  for (std::int64_t g = 0; g < s.groups; ++g)
    gemm(Trans::no, Trans::no, d.out_g, d.positions, d.rows_g, 1.0f, w + g * d.w_stride, d.rows_g,
         cols + g * d.cols_stride, d.positions, beta, y + g * d.y_stride, d.positions);
}

void add_weight_gradient(const ConvShape& s, const float* cols, const float* dy, float* dw) {
  const GroupDims d = group_dims(s);
  for (std::int64_t g = 0; g < s.groups; ++g)
    gemm(Trans::no, Trans::yes, d.out_g, d.rows_g, d.positions, 1.0f, dy + g * d.y_stride, d.positions,
         cols + g * d.cols_stride, d.positions, 1.0f, dw + g * d.w_stride, d.rows_g);
}

void add_adjoint(const ConvShape& s, const float* w, const float* dy, float* x, float* scratch) {
  const GroupDims d = group_dims(s);
  const bool pointwise = s.g.is_pointwise();
  float* cols = pointwise ? x : scratch;
  for (std::int64_t g = 0; g < s.groups; ++g)
    gemm(Trans::yes, Trans::no, d.rows_g, d.positions, d.out_g, 1.0f, w + g * d.w_stride, d.rows_g,
         dy + g * d.y_stride, d.positions, pointwise ? 1.0f : 0.0f, cols + g * d.cols_stride, d.positions);
  if (!pointwise) col2vol(cols, s.in_channels, s.g, x);
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
