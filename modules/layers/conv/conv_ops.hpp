#pragma once
// The three matrix products of a grouped N-d convolution on one sample, shared by conv (whose
// forward is `apply` and whose input gradient is `add_adjoint`) and conv_transpose (the other
// way round). Seen from the convolution: `in_channels` × g.in go in, `out_channels` × g.out
// come out, and the weight is (out_channels, in_channels / groups, kernel...) as PyTorch's.
#include <cstdint>

#include "layers/conv/geometry.hpp"

namespace weft::builtin {

struct ConvShape {
  WindowGeometry g;
  std::int64_t in_channels = 0, out_channels = 0, groups = 1;

  std::int64_t in_size() const { return in_channels * g.in_count(); }     // one sample's input
  std::int64_t out_size() const { return out_channels * g.out_count(); }  // one sample's output
  std::int64_t columns_size() const { return in_channels * g.kernel_count() * g.out_count(); }
  // Floats of workspace that columns() and add_adjoint() need: none for a pointwise convolution.
  std::size_t scratch_size() const { return g.is_pointwise() ? 0 : static_cast<std::size_t>(columns_size()); }
};

// The column matrix of x (see im2col.hpp): `scratch` (columns_size() floats) filled and returned,
// or x itself for a pointwise convolution, which needs no copy.
const float* columns(const ConvShape& s, const float* x, float* scratch);

// y (out_channels × P) = beta·y + W · cols, group by group.
void apply(const ConvShape& s, const float* w, const float* cols, float beta, float* y);

// dw += dy · colsᵀ, group by group: the weight gradient of one sample.
void add_weight_gradient(const ConvShape& s, const float* cols, const float* dy, float* dw);

// x += the adjoint of the convolution applied to dy: col2vol(Wᵀ · dy). `scratch` holds
// columns_size() floats (unused for a pointwise convolution).
void add_adjoint(const ConvShape& s, const float* w, const float* dy, float* x, float* scratch);

// Per-channel bias over `positions` values per channel: y[c, p] = b[c]; db[c] += Σ_p dy[c, p].
void fill_bias(const float* b, std::int64_t channels, std::int64_t positions, float* y);
void add_bias_gradient(const float* dy, std::int64_t channels, std::int64_t positions, float* db);

}  // namespace weft::builtin
