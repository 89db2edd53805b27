#pragma once
// The two register-tiled inner products of the shifted-window convolution (window_conv.hpp).
//
// Both read the convolution's input in place, through a table of offsets: row k of the implicit
// column matrix of a stride-1 convolution is the padded, flattened input shifted by offsets[k],
// so no column matrix is ever written. Each call computes one tile of the output in registers.
// Every element is summed in one fixed order (k, or q, ascending), whatever the CPU or thread
// count; the vector version is picked once per process by what the CPU supports.
#include <cstdint>

namespace weft::builtin {

// window_tile: out[r·ld + j] = init[r] + Σ_{k < depth} a[k·window_rows + r] · x[offsets[k] + j]
// for r < window_rows, j < window_cols. `a` is a packed panel of the weights (k-major).
constexpr int window_rows = 4, window_cols = 24;
void window_tile(const float* a, const std::int64_t* offsets, std::int64_t depth, const float* x, const float* init,
                 float* out, std::int64_t ld);

// gradient_tile: acc[r·ld + j] += Σ_{q < length} x[offsets[r] + q] · d[q·ldd + j]
// for r < gradient_rows, j < gradient_cols: a tile of the transposed weight gradient, the
// input rows against the output gradient laid out position-major (d).
constexpr int gradient_rows = 6, gradient_cols = 16;
void gradient_tile(const std::int64_t* offsets, const float* x, const float* d, std::int64_t ldd, std::int64_t length,
                   float* acc, std::int64_t ld);

// dst[c·ld_dst + r] = src[r·ld_src + c] for r < rows, c < cols, both multiples of 8: the
// output gradient turned position-major for gradient_tile, in 8 × 8 register blocks.
void transpose_blocks(const float* src, std::int64_t ld_src, std::int64_t rows, std::int64_t cols, float* dst,
                      std::int64_t ld_dst);

}  // namespace weft::builtin
