#pragma once
// The matrix products of a grouped N-d convolution, shared by conv (whose forward is `apply`
// and whose input gradient is `add_adjoint`) and conv_transpose (the other way round). Seen
// from the convolution: `in_channels` × g.in go in, `out_channels` × g.out come out, and the
// weight is (out_channels, in_channels / groups, kernel...) as PyTorch's.
//
// They work on a block of `nb` samples at once, laid side by side: a block matrix has one row per
// channel (or per column-matrix row) and nb·P columns, sample j in columns [j·P, (j + 1)·P).
// One GEMM over a block replaces nb small ones, which pays when P is small. A block of one
// sample is the sample's own layout, so nb = 1 needs no copies.
#include <cstdint>
#include <string>

#include "layers/conv/geometry.hpp"
#include "weft/layer.hpp"

namespace weft::builtin {

struct ConvShape {
  WindowGeometry g;
  std::int64_t in_channels = 0, out_channels = 0, groups = 1;

  std::int64_t in_size() const { return in_channels * g.in_count(); }     // one sample's input
  std::int64_t out_size() const { return out_channels * g.out_count(); }  // one sample's output
  std::int64_t column_rows() const { return in_channels * g.kernel_count(); }

  // Samples per block for a shard of n (see conv_ops.cpp for the measured rule), at least 1.
  // Depends on n and the shapes only, never on the thread count.
  std::int64_t block_samples(std::int64_t n) const;
};

// Workspace slots of both layers; conv adds its own after these.
enum ConvWorkspaceSlot : std::size_t { columns_slot = 0, block_slot = 1, gemm_slot = 2, first_free_slot = 3 };

// How every pass of both layers walks a shard of n samples: `block` samples at a time (P =
// `positions` output positions each), with scratch for one block's column matrix (columns_slot,
// column_rows() × block·P), one block of out_channels rows (block_slot, out_channels × block·P)
// and the packed panels of the products below (gemm_slot, enough for any of them on a block).
struct ConvBlocks {
  std::int64_t n, positions, block;
  float* columns;
  float* rows;
  float* gemm;
};
ConvBlocks conv_blocks(const ConvShape& s, Workspace& ws, std::int64_t n);

// Throws ShapeError when one sample's column matrix has 2^31 or more entries: the products index
// with int, and a silent overflow would compute garbage.
void check_gemm_limits(const ConvShape& s, const std::string& type);

// The column matrix (column_rows() × nb·P) of the nb samples at x: `scratch` filled and returned,
// or x itself for one sample of a pointwise convolution, which needs no copy.
const float* columns(const ConvShape& s, const float* x, std::int64_t nb, float* scratch);

// The products run on packed_gemm (layers/packed_gemm.hpp), as the dense layer's: the same bits
// in every vector set, whatever kernels OpenBLAS was told to use. `gemm` is ConvBlocks::gemm.

// out (out_channels × nb·P) = beta·out + W · cols, group by group; beta 0 or 1.
void apply(const ConvShape& s, const float* w, const float* cols, std::int64_t nb, float beta, float* out, float* gemm);

// dw += dy · colsᵀ, group by group, dy a block (out_channels × nb·P).
void add_weight_gradient(const ConvShape& s, const float* cols, const float* dy, std::int64_t nb, float* dw, float* gemm);

// The nb samples at x += the adjoint of the convolution applied to the block dy: col2vol(Wᵀ · dy).
// `scratch` holds column_rows()·nb·P floats (unused for one sample of a pointwise convolution).
void add_adjoint(const ConvShape& s, const float* w, const float* dy, std::int64_t nb, float* x, float* scratch,
                 float* gemm);

// Between nb samples (nb, channels, P) and a block (channels, nb·P). to_block returns `samples`
// itself when nb = 1, else fills and returns `scratch`.
const float* to_block(const float* samples, std::int64_t channels, std::int64_t positions, std::int64_t nb, float* scratch);
void from_block(const float* block, std::int64_t channels, std::int64_t positions, std::int64_t nb, float* samples);

// Per-channel bias over `positions` values per channel: y[c, p] = b[c]; db[c] += Σ_p dy[c, p].
void fill_bias(const float* b, std::int64_t channels, std::int64_t positions, float* y);
void add_bias_gradient(const float* dy, std::int64_t channels, std::int64_t positions, float* db);

}  // namespace weft::builtin
