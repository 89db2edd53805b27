#pragma once
// The two register-tiled products of the shifted-window convolution (window_conv.hpp).
//
// Both read the convolution's input in place, through a table of offsets: row k of the implicit
// column matrix of a stride-1 convolution is the padded, flattened input shifted by offsets[k],
// so no column matrix is ever written. Tiles of the result are computed in registers.
//
// Every result element is one chain of fused multiply-adds in one fixed order (k, or q,
// ascending), whatever the tile shape, CPU or thread count: the AVX2 and AVX-512 versions give
// the same bits, and only the portable loop (no guaranteed FMA) may differ in the last place.
// The widest vector set the CPU has is used, unless lowered (layers/vector_isa.hpp).
#include <cstdint>

namespace weft::builtin {

// Weights are packed in panels of window_rows rows, k-major within a panel; results are laid out
// in rows of `ld` positions, a multiple of window_cols, and the input must be readable up to
// window_cols floats past the last position kept.
constexpr int window_rows = 4, window_cols = 48;

// out[r·ld + q] = init[r] + Σ_{k < depth} W[r, k] · x[offsets[k] + q] for r < rows (a multiple of
// window_rows; row r of W is row r % window_rows of panel r / window_rows, at panels + that · depth
// · window_rows) and q < span rounded up to whole tiles (at most ld).
void window_product(const float* panels, std::int64_t rows, const std::int64_t* offsets, std::int64_t depth,
                    const float* x, const float* init, std::int64_t span, float* out, std::int64_t ld);

// The transposed weight gradient reads the output gradient position-major, in blocks of
// gradient_cols filters: block b is a (positions × gradient_cols) matrix at d + b · gradient_cols ·
// positions. The row offsets are padded (with any valid offset) to a multiple of gradient_rows.
constexpr int gradient_rows = 12, gradient_cols = 16;

// The positions a weight gradient sums over: `count` runs of `length` consecutive positions, run
// i starting at starts[i] (ascending, non-overlapping). Only output positions need summing: the
// dropped ones between rows hold a zero gradient (2 of every 13 on fashion_cnn's second layer,
// and its last row and column too, which its 2 × 2 pooling never reads).
struct PositionRuns {
  const std::int64_t* starts;
  std::int64_t count, length;
};

// acc[r·ld + f] += Σ_{q in runs} x[offsets[r] + q] · D[q, f] for r < rows (a multiple of
// gradient_rows) and f < filters (a multiple of gradient_cols), D being the blocks above; q
// ascending. Neither x nor D is read at a position outside the runs.
void gradient_product(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                      std::int64_t positions, std::int64_t filters, const PositionRuns& runs, float* acc,
                      std::int64_t ld);

// dst[c·ld_dst + r] = src[r·ld_src + c] for r < rows, c < cols, both multiples of 8: the
// output gradient turned position-major for gradient_product, in 8 × 8 register blocks (16 × 16
// where the CPU has AVX-512), and the transposing packs of packed_gemm.
void transpose_blocks(const float* src, std::int64_t ld_src, std::int64_t rows, std::int64_t cols, float* dst,
                      std::int64_t ld_dst);

}  // namespace weft::builtin
