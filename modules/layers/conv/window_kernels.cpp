// The products of window_kernels.hpp in three versions: AVX-512 and AVX2+FMA where the CPU has
// them (each compiled for its target alone, so the library still runs on any x86-64) and a
// portable loop. The vector versions differ only in tile shape: each result element is the same
// FMA chain, so they give the same bits.
#include "layers/conv/window_kernels.hpp"

#include "layers/vector_isa.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WEFT_WINDOW_X86 1
#endif

namespace weft::builtin {
namespace {

// ---- portable -------------------------------------------------------------------------------

// Tiles of 4 rows × 24 positions, as the AVX2 version, in loops a compiler can vectorise (the
// path of CPUs without AVX2, such as ARM servers).
void window_product_portable(const float* panels, std::int64_t rows, const std::int64_t* offsets, std::int64_t depth,
                             const float* x, const float* init, std::int64_t span, float* out, std::int64_t ld) {
  constexpr int cols = 24;
  for (std::int64_t q = 0; q < span; q += cols)
    for (std::int64_t t = 0; t < rows; t += window_rows) {
      const float* a = panels + t * depth;
      float acc[window_rows][cols];
      for (int r = 0; r < window_rows; ++r)
        for (int j = 0; j < cols; ++j) acc[r][j] = init[t + r];
      for (std::int64_t k = 0; k < depth; ++k) {
        const float* b = x + offsets[k] + q;
        for (int r = 0; r < window_rows; ++r)
          for (int j = 0; j < cols; ++j) acc[r][j] += a[k * window_rows + r] * b[j];
      }
      for (int r = 0; r < window_rows; ++r)
        for (int j = 0; j < cols; ++j) out[(t + r) * ld + q + j] = acc[r][j];
    }
}

// One row against a block of 16 filters at a time: the inner loop runs over filters, contiguous
// in the block, and vectorises.
void gradient_product_portable(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                               std::int64_t positions, std::int64_t filters, const PositionRuns& runs, float* acc,
                               std::int64_t ld) {
  for (std::int64_t f = 0; f < filters; f += gradient_cols) {
    const float* block = d + f * positions;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* row = x + offsets[r];
      float sum[gradient_cols];
      for (int j = 0; j < gradient_cols; ++j) sum[j] = acc[r * ld + f + j];
      for (std::int64_t run = 0; run < runs.count; ++run)
        for (std::int64_t q = runs.starts[run]; q < runs.starts[run] + runs.length; ++q)
          for (int j = 0; j < gradient_cols; ++j) sum[j] += row[q] * block[q * gradient_cols + j];
      for (int j = 0; j < gradient_cols; ++j) acc[r * ld + f + j] = sum[j];
    }
  }
}

void transpose_blocks_portable(const float* src, std::int64_t ld_src, std::int64_t rows, std::int64_t cols, float* dst,
                               std::int64_t ld_dst) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) dst[c * ld_dst + r] = src[r * ld_src + c];
}

#ifdef WEFT_WINDOW_X86
// The accumulators are named variables, not arrays: GCC keeps an array of vectors in memory and
// stores it back on every iteration, which halved the speed.

// ---- AVX2 + FMA: 16 ymm registers -----------------------------------------------------------
#define WEFT_FMA8(acc, a, b) acc = _mm256_fmadd_ps(a, b, acc)

// 4 rows × 24 positions: 12 accumulators, 3 input vectors and one broadcast.
__attribute__((target("avx2,fma"))) void window_tile_avx2(const float* a, const std::int64_t* offsets,
                                                            std::int64_t depth, const float* x, const float* init,
                                                            float* out, std::int64_t ld) {
  __m256 c00 = _mm256_broadcast_ss(init), c01 = c00, c02 = c00;
  __m256 c10 = _mm256_broadcast_ss(init + 1), c11 = c10, c12 = c10;
  __m256 c20 = _mm256_broadcast_ss(init + 2), c21 = c20, c22 = c20;
  __m256 c30 = _mm256_broadcast_ss(init + 3), c31 = c30, c32 = c30;
  for (std::int64_t k = 0; k < depth; ++k, a += 4) {
    const float* b = x + offsets[k];
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), b2 = _mm256_loadu_ps(b + 16);
    __m256 w = _mm256_broadcast_ss(a);
    WEFT_FMA8(c00, w, b0), WEFT_FMA8(c01, w, b1), WEFT_FMA8(c02, w, b2);
    w = _mm256_broadcast_ss(a + 1);
    WEFT_FMA8(c10, w, b0), WEFT_FMA8(c11, w, b1), WEFT_FMA8(c12, w, b2);
    w = _mm256_broadcast_ss(a + 2);
    WEFT_FMA8(c20, w, b0), WEFT_FMA8(c21, w, b1), WEFT_FMA8(c22, w, b2);
    w = _mm256_broadcast_ss(a + 3);
    WEFT_FMA8(c30, w, b0), WEFT_FMA8(c31, w, b1), WEFT_FMA8(c32, w, b2);
  }
  const auto store = [out](std::int64_t at, __m256 v0, __m256 v1, __m256 v2) __attribute__((target("avx2"))) {
    _mm256_storeu_ps(out + at, v0), _mm256_storeu_ps(out + at + 8, v1), _mm256_storeu_ps(out + at + 16, v2);
  };
  store(0, c00, c01, c02), store(ld, c10, c11, c12), store(2 * ld, c20, c21, c22), store(3 * ld, c30, c31, c32);
}

// 6 rows × 16 filters: 12 accumulators, 2 gradient vectors and one broadcast.
__attribute__((target("avx2,fma"))) void gradient_tile_avx2(const std::int64_t* offsets, const float* x,
                                                              const float* const d, const PositionRuns& runs,
                                                              float* acc, std::int64_t ld) {
  float* const r0 = acc, *const r1 = acc + ld, *const r2 = acc + 2 * ld, *const r3 = acc + 3 * ld;
  float* const r4 = acc + 4 * ld, *const r5 = acc + 5 * ld;
  __m256 c00 = _mm256_loadu_ps(r0), c01 = _mm256_loadu_ps(r0 + 8), c10 = _mm256_loadu_ps(r1), c11 = _mm256_loadu_ps(r1 + 8);
  __m256 c20 = _mm256_loadu_ps(r2), c21 = _mm256_loadu_ps(r2 + 8), c30 = _mm256_loadu_ps(r3), c31 = _mm256_loadu_ps(r3 + 8);
  __m256 c40 = _mm256_loadu_ps(r4), c41 = _mm256_loadu_ps(r4 + 8), c50 = _mm256_loadu_ps(r5), c51 = _mm256_loadu_ps(r5 + 8);
  const float *x0 = x + offsets[0], *x1 = x + offsets[1], *x2 = x + offsets[2];
  const float *x3 = x + offsets[3], *x4 = x + offsets[4], *x5 = x + offsets[5];
  for (std::int64_t run = 0; run < runs.count; ++run) {
    for (std::int64_t q = runs.starts[run], end = q + runs.length; q < end; ++q) {
      const __m256 d0 = _mm256_loadu_ps(d + q * gradient_cols), d1 = _mm256_loadu_ps(d + q * gradient_cols + 8);
      __m256 v = _mm256_broadcast_ss(x0 + q);
      WEFT_FMA8(c00, v, d0), WEFT_FMA8(c01, v, d1);
      v = _mm256_broadcast_ss(x1 + q);
      WEFT_FMA8(c10, v, d0), WEFT_FMA8(c11, v, d1);
      v = _mm256_broadcast_ss(x2 + q);
      WEFT_FMA8(c20, v, d0), WEFT_FMA8(c21, v, d1);
      v = _mm256_broadcast_ss(x3 + q);
      WEFT_FMA8(c30, v, d0), WEFT_FMA8(c31, v, d1);
      v = _mm256_broadcast_ss(x4 + q);
      WEFT_FMA8(c40, v, d0), WEFT_FMA8(c41, v, d1);
      v = _mm256_broadcast_ss(x5 + q);
      WEFT_FMA8(c50, v, d0), WEFT_FMA8(c51, v, d1);
    }
  }
  _mm256_storeu_ps(r0, c00), _mm256_storeu_ps(r0 + 8, c01), _mm256_storeu_ps(r1, c10), _mm256_storeu_ps(r1 + 8, c11);
  _mm256_storeu_ps(r2, c20), _mm256_storeu_ps(r2 + 8, c21), _mm256_storeu_ps(r3, c30), _mm256_storeu_ps(r3 + 8, c31);
  _mm256_storeu_ps(r4, c40), _mm256_storeu_ps(r4 + 8, c41), _mm256_storeu_ps(r5, c50), _mm256_storeu_ps(r5 + 8, c51);
}
#undef WEFT_FMA8

// Column tiles outermost: the stretch of input one tile reads stays in L1 while every row panel
// passes over it (the panels stream from L2 in order).
void window_product_avx2(const float* panels, std::int64_t rows, const std::int64_t* offsets, std::int64_t depth,
                         const float* x, const float* init, std::int64_t span, float* out, std::int64_t ld) {
  for (std::int64_t q = 0; q < span; q += 24)
    for (std::int64_t t = 0; t < rows; t += window_rows)
      window_tile_avx2(panels + t * depth, offsets, depth, x + q, init + t, out + t * ld + q, ld);
}

void gradient_product_avx2(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                           std::int64_t positions, std::int64_t filters, const PositionRuns& runs, float* acc,
                           std::int64_t ld) {
  for (std::int64_t f = 0; f < filters; f += gradient_cols)
    for (std::int64_t r = 0; r < rows; r += 6)
      gradient_tile_avx2(offsets + r, x, d + f * positions, runs, acc + r * ld + f, ld);
}

// Rows interleaved in pairs, then quadruples, then the 128-bit halves swapped into place.
__attribute__((target("avx2"))) void transpose_blocks_avx2(const float* src, std::int64_t ld_src, std::int64_t rows,
                                                             std::int64_t cols, float* dst, std::int64_t ld_dst) {
  for (std::int64_t r = 0; r < rows; r += 8)
    for (std::int64_t c = 0; c < cols; c += 8) {
      const float* s = src + r * ld_src + c;
      __m256 v[8], t[8];
      for (int i = 0; i < 8; ++i) v[i] = _mm256_loadu_ps(s + i * ld_src);
      for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
      }
      for (int i = 0; i < 8; i += 4) {
        v[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        v[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        v[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        v[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
      }
      float* o = dst + c * ld_dst + r;
      for (int i = 0; i < 4; ++i) {
        _mm256_storeu_ps(o + i * ld_dst, _mm256_permute2f128_ps(v[i], v[i + 4], 0x20));
        _mm256_storeu_ps(o + (i + 4) * ld_dst, _mm256_permute2f128_ps(v[i], v[i + 4], 0x31));
      }
    }
}

// ---- AVX-512: 32 zmm registers, twice the width -----------------------------------------------
// The larger register file allows taller tiles: fewer loads per multiply-add.
#define WEFT_TARGET_512 __attribute__((target("avx512f")))
#define WEFT_FMA16(acc, a, b) acc = _mm512_fmadd_ps(a, b, acc)
#define WEFT_BCAST(p) _mm512_set1_ps(*(p))

// Rows × Vecs · 16 positions: Rows = 8 (two weight panels) or 4 (one), Vecs = 3 for whole
// column blocks, fewer for a short last one (a 6 × 6 input keeps 16 of 22 positions: a 48-wide
// tile would compute 48). Up to 24 accumulators, 3 input vectors and one broadcast.
template <int Rows, int Vecs>
WEFT_TARGET_512 void window_tile_avx512(const float* a, std::int64_t depth, const std::int64_t* offsets,
                                        const float* x, const float* init, float* out, std::int64_t ld) {
  static_assert((Rows == 4 || Rows == 8) && Vecs >= 1 && Vecs <= 3);
  const float* a1 = Rows == 8 ? a + 4 * depth : a;  // the second panel (rows 4..7)
#define WEFT_INIT(r) __m512 c##r##0 = WEFT_BCAST(init + (r < Rows ? r : 0)), c##r##1 = c##r##0, c##r##2 = c##r##0;
  WEFT_INIT(0) WEFT_INIT(1) WEFT_INIT(2) WEFT_INIT(3) WEFT_INIT(4) WEFT_INIT(5) WEFT_INIT(6) WEFT_INIT(7)
#undef WEFT_INIT
  for (std::int64_t k = 0; k < depth; ++k, a += 4, a1 += 4) {
    const float* b = x + offsets[k];
    __m512 b0 = _mm512_loadu_ps(b), b1 = b0, b2 = b0;
    if constexpr (Vecs >= 2) b1 = _mm512_loadu_ps(b + 16);
    if constexpr (Vecs >= 3) b2 = _mm512_loadu_ps(b + 32);
#define WEFT_ROW(r, p)                                 \
  if constexpr (r < Rows) {                            \
    const __m512 w = WEFT_BCAST(p);                    \
    WEFT_FMA16(c##r##0, w, b0);                        \
    if constexpr (Vecs >= 2) WEFT_FMA16(c##r##1, w, b1); \
    if constexpr (Vecs >= 3) WEFT_FMA16(c##r##2, w, b2); \
  }
    WEFT_ROW(0, a) WEFT_ROW(1, a + 1) WEFT_ROW(2, a + 2) WEFT_ROW(3, a + 3)
    WEFT_ROW(4, a1) WEFT_ROW(5, a1 + 1) WEFT_ROW(6, a1 + 2) WEFT_ROW(7, a1 + 3)
#undef WEFT_ROW
  }
#define WEFT_STORE(r)                                                   \
  if constexpr (r < Rows) {                                             \
    float* o = out + r * ld;                                            \
    _mm512_storeu_ps(o, c##r##0);                                       \
    if constexpr (Vecs >= 2) _mm512_storeu_ps(o + 16, c##r##1);         \
    if constexpr (Vecs >= 3) _mm512_storeu_ps(o + 32, c##r##2);         \
  }
  WEFT_STORE(0) WEFT_STORE(1) WEFT_STORE(2) WEFT_STORE(3) WEFT_STORE(4) WEFT_STORE(5) WEFT_STORE(6) WEFT_STORE(7)
#undef WEFT_STORE
}

// 12 rows × Blocks · 16 filters, Blocks = 2 (24 accumulators) or 1 (12).
template <int Blocks>
WEFT_TARGET_512 void gradient_tile_avx512(const std::int64_t* offsets, const float* x, const float* const d,
                                          std::int64_t block_stride, const PositionRuns& runs, float* acc,
                                          std::int64_t ld) {
  static_assert(Blocks == 1 || Blocks == 2);
#define WEFT_ROW(i)                                                                        \
  float* const r##i = acc + i * ld;                                                        \
  const float* const x##i = x + offsets[i];                                                \
  __m512 c##i##0 = _mm512_loadu_ps(r##i), c##i##1;                                         \
  if constexpr (Blocks == 2) c##i##1 = _mm512_loadu_ps(r##i + 16);
  WEFT_ROW(0) WEFT_ROW(1) WEFT_ROW(2) WEFT_ROW(3) WEFT_ROW(4) WEFT_ROW(5)
  WEFT_ROW(6) WEFT_ROW(7) WEFT_ROW(8) WEFT_ROW(9) WEFT_ROW(10) WEFT_ROW(11)
#undef WEFT_ROW
#define WEFT_STEP(i)                                       \
  {                                                        \
    const __m512 v = WEFT_BCAST(x##i + q);                 \
    WEFT_FMA16(c##i##0, v, v0);                            \
    if constexpr (Blocks == 2) WEFT_FMA16(c##i##1, v, v1); \
  }
  for (std::int64_t run = 0; run < runs.count; ++run) {
    for (std::int64_t q = runs.starts[run], end = q + runs.length; q < end; ++q) {
      const __m512 v0 = _mm512_loadu_ps(d + q * gradient_cols);
      __m512 v1;
      if constexpr (Blocks == 2) v1 = _mm512_loadu_ps(d + block_stride + q * gradient_cols);
      WEFT_STEP(0) WEFT_STEP(1) WEFT_STEP(2) WEFT_STEP(3) WEFT_STEP(4) WEFT_STEP(5)
      WEFT_STEP(6) WEFT_STEP(7) WEFT_STEP(8) WEFT_STEP(9) WEFT_STEP(10) WEFT_STEP(11)
    }
  }
#undef WEFT_STEP
#define WEFT_STORE(i)              \
  _mm512_storeu_ps(r##i, c##i##0); \
  if constexpr (Blocks == 2) _mm512_storeu_ps(r##i + 16, c##i##1);
  WEFT_STORE(0) WEFT_STORE(1) WEFT_STORE(2) WEFT_STORE(3) WEFT_STORE(4) WEFT_STORE(5)
  WEFT_STORE(6) WEFT_STORE(7) WEFT_STORE(8) WEFT_STORE(9) WEFT_STORE(10) WEFT_STORE(11)
#undef WEFT_STORE
}
#undef WEFT_BCAST
#undef WEFT_FMA16

template <int Vecs>
void window_column_avx512(const float* panels, std::int64_t rows, const std::int64_t* offsets, std::int64_t depth,
                          const float* x, const float* init, float* out, std::int64_t ld) {
  std::int64_t t = 0;
  for (; t + 8 <= rows; t += 8)
    window_tile_avx512<8, Vecs>(panels + t * depth, depth, offsets, x, init + t, out + t * ld, ld);
  if (t < rows) window_tile_avx512<4, Vecs>(panels + t * depth, depth, offsets, x, init + t, out + t * ld, ld);
}

void window_product_avx512(const float* panels, std::int64_t rows, const std::int64_t* offsets, std::int64_t depth,
                           const float* x, const float* init, std::int64_t span, float* out, std::int64_t ld) {
  for (std::int64_t q = 0; q < span; q += window_cols) {
    const std::int64_t left = span - q;
    if (left > 32) window_column_avx512<3>(panels, rows, offsets, depth, x + q, init, out + q, ld);
    else if (left > 16) window_column_avx512<2>(panels, rows, offsets, depth, x + q, init, out + q, ld);
    else window_column_avx512<1>(panels, rows, offsets, depth, x + q, init, out + q, ld);
  }
}

void gradient_product_avx512(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                             std::int64_t positions, std::int64_t filters, const PositionRuns& runs, float* acc,
                             std::int64_t ld) {
  const std::int64_t block_stride = gradient_cols * positions;
  std::int64_t f = 0;
  for (; f + 2 * gradient_cols <= filters; f += 2 * gradient_cols)
    for (std::int64_t r = 0; r < rows; r += gradient_rows)
      gradient_tile_avx512<2>(offsets + r, x, d + f * positions, block_stride, runs, acc + r * ld + f, ld);
  if (f < filters)
    for (std::int64_t r = 0; r < rows; r += gradient_rows)
      gradient_tile_avx512<1>(offsets + r, x, d + f * positions, block_stride, runs, acc + r * ld + f, ld);
}

// The shuffles in their masked form with every lane kept: the plain intrinsics pass GCC 12 an
// undefined vector that -Wuninitialized reports.
#define WEFT_ALL 0xFFFF
#define WEFT_UNPACKLO(a, b) _mm512_mask_unpacklo_ps(a, WEFT_ALL, a, b)
#define WEFT_UNPACKHI(a, b) _mm512_mask_unpackhi_ps(a, WEFT_ALL, a, b)
#define WEFT_SHUFFLE(a, b, imm) _mm512_mask_shuffle_ps(a, WEFT_ALL, a, b, imm)
#define WEFT_SHUFFLE_LANES(a, b, imm) _mm512_mask_shuffle_f32x4(a, WEFT_ALL, a, b, imm)
// One 16 × 16 block: rows interleaved in pairs, then quadruples (after which vector 4g + c holds,
// in 128-bit lane L, column 4L + c of rows 4g .. 4g + 3), then the lanes gathered across vectors
// in two rounds. Per float it takes half the shuffles of the 8 × 8 AVX2 block.
WEFT_TARGET_512 void transpose_16x16_avx512(const float* src, std::int64_t ld_src, float* dst, std::int64_t ld_dst) {
  __m512 v[16], t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) v[i] = _mm512_loadu_ps(src + i * ld_src);
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = WEFT_UNPACKLO(v[i], v[i + 1]);
    t[i + 1] = WEFT_UNPACKHI(v[i], v[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    v[i] = WEFT_SHUFFLE(t[i], t[i + 2], 0x44);
    v[i + 1] = WEFT_SHUFFLE(t[i], t[i + 2], 0xEE);
    v[i + 2] = WEFT_SHUFFLE(t[i + 1], t[i + 3], 0x44);
    v[i + 3] = WEFT_SHUFFLE(t[i + 1], t[i + 3], 0xEE);
  }
  // 0x88 takes lanes 0 and 2 of each operand, 0xDD lanes 1 and 3.
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m512 even_lo = WEFT_SHUFFLE_LANES(v[c], v[4 + c], 0x88), odd_lo = WEFT_SHUFFLE_LANES(v[c], v[4 + c], 0xDD);
    const __m512 even_hi = WEFT_SHUFFLE_LANES(v[8 + c], v[12 + c], 0x88);
    const __m512 odd_hi = WEFT_SHUFFLE_LANES(v[8 + c], v[12 + c], 0xDD);
    _mm512_storeu_ps(dst + c * ld_dst, WEFT_SHUFFLE_LANES(even_lo, even_hi, 0x88));
    _mm512_storeu_ps(dst + (8 + c) * ld_dst, WEFT_SHUFFLE_LANES(even_lo, even_hi, 0xDD));
    _mm512_storeu_ps(dst + (4 + c) * ld_dst, WEFT_SHUFFLE_LANES(odd_lo, odd_hi, 0x88));
    _mm512_storeu_ps(dst + (12 + c) * ld_dst, WEFT_SHUFFLE_LANES(odd_lo, odd_hi, 0xDD));
  }
}
#undef WEFT_SHUFFLE_LANES
#undef WEFT_SHUFFLE
#undef WEFT_UNPACKHI
#undef WEFT_UNPACKLO
#undef WEFT_ALL

// Whole 16 × 16 blocks, then the strips of 8 left on the right and at the bottom as 8 × 8 blocks.
void transpose_blocks_avx512(const float* src, std::int64_t ld_src, std::int64_t rows, std::int64_t cols, float* dst,
                             std::int64_t ld_dst) {
  const std::int64_t rows16 = rows & ~std::int64_t{15}, cols16 = cols & ~std::int64_t{15};
  for (std::int64_t r = 0; r < rows16; r += 16)
    for (std::int64_t c = 0; c < cols16; c += 16) transpose_16x16_avx512(src + r * ld_src + c, ld_src, dst + c * ld_dst + r, ld_dst);
  if (cols16 < cols) transpose_blocks_avx2(src + cols16, ld_src, rows16, cols - cols16, dst + cols16 * ld_dst, ld_dst);
  if (rows16 < rows) transpose_blocks_avx2(src + rows16 * ld_src, ld_src, rows - rows16, cols, dst + rows16, ld_dst);
}
#undef WEFT_TARGET_512

#endif

}  // namespace

void window_product(const float* panels, std::int64_t rows, const std::int64_t* offsets, std::int64_t depth,
                    const float* x, const float* init, std::int64_t span, float* out, std::int64_t ld) {
  switch (vector_isa()) {
#ifdef WEFT_WINDOW_X86
    case VectorIsa::avx512: return window_product_avx512(panels, rows, offsets, depth, x, init, span, out, ld);
    case VectorIsa::avx2: return window_product_avx2(panels, rows, offsets, depth, x, init, span, out, ld);
#endif
    default: return window_product_portable(panels, rows, offsets, depth, x, init, span, out, ld);
  }
}

void gradient_product(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                      std::int64_t positions, std::int64_t filters, const PositionRuns& runs, float* acc,
                      std::int64_t ld) {
  switch (vector_isa()) {
#ifdef WEFT_WINDOW_X86
    case VectorIsa::avx512: return gradient_product_avx512(offsets, rows, x, d, positions, filters, runs, acc, ld);
    case VectorIsa::avx2: return gradient_product_avx2(offsets, rows, x, d, positions, filters, runs, acc, ld);
#endif
    default: return gradient_product_portable(offsets, rows, x, d, positions, filters, runs, acc, ld);
  }
}

void transpose_blocks(const float* src, std::int64_t ld_src, std::int64_t rows, std::int64_t cols, float* dst,
                      std::int64_t ld_dst) {
#ifdef WEFT_WINDOW_X86
  if (vector_isa() == VectorIsa::avx512) return transpose_blocks_avx512(src, ld_src, rows, cols, dst, ld_dst);
  if (vector_isa() == VectorIsa::avx2) return transpose_blocks_avx2(src, ld_src, rows, cols, dst, ld_dst);
#endif
  transpose_blocks_portable(src, ld_src, rows, cols, dst, ld_dst);
}

}  // namespace weft::builtin
