// AVX2+FMA tiles where the CPU has them (compiled for that target alone, so the library still
// runs on any x86-64), a portable loop elsewhere. Both sum in the same order; they differ only
// in FMA's single rounding.
#include "layers/conv/window_kernels.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WEFT_WINDOW_AVX2 1
#endif

namespace weft::builtin {
namespace {

void window_tile_portable(const float* a, const std::int64_t* offsets, std::int64_t depth, const float* x,
                          const float* init, float* out, std::int64_t ld) {
  float acc[window_rows][window_cols];
  for (int r = 0; r < window_rows; ++r)
    for (int j = 0; j < window_cols; ++j) acc[r][j] = init[r];
  for (std::int64_t k = 0; k < depth; ++k) {
    const float* b = x + offsets[k];
    for (int r = 0; r < window_rows; ++r)
      for (int j = 0; j < window_cols; ++j) acc[r][j] += a[k * window_rows + r] * b[j];
  }
  for (int r = 0; r < window_rows; ++r)
    for (int j = 0; j < window_cols; ++j) out[r * ld + j] = acc[r][j];
}

void gradient_tile_portable(const std::int64_t* offsets, const float* x, const float* d, std::int64_t ldd,
                            std::int64_t length, float* acc, std::int64_t ld) {
  for (int r = 0; r < gradient_rows; ++r) {
    const float* row = x + offsets[r];
    float sum[gradient_cols];
    for (int j = 0; j < gradient_cols; ++j) sum[j] = acc[r * ld + j];
    for (std::int64_t q = 0; q < length; ++q)
      for (int j = 0; j < gradient_cols; ++j) sum[j] += row[q] * d[q * ldd + j];
    for (int j = 0; j < gradient_cols; ++j) acc[r * ld + j] = sum[j];
  }
}

void transpose_blocks_portable(const float* src, std::int64_t ld_src, std::int64_t rows, std::int64_t cols, float* dst,
                               std::int64_t ld_dst) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) dst[c * ld_dst + r] = src[r * ld_src + c];
}

#ifdef WEFT_WINDOW_AVX2
static_assert(window_rows == 4 && window_cols == 24 && gradient_rows == 6 && gradient_cols == 16,
              "the AVX2 tiles below are written out for these sizes");

// The accumulators are named variables, not arrays: GCC keeps an array of vectors in memory and
// stores it back on every iteration, which halved the speed.
#define WEFT_FMA(acc, a, b) acc = _mm256_fmadd_ps(a, b, acc)

// 4 rows × 3 vectors = 12 accumulators, 3 input vectors and one broadcast: 16 ymm registers.
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
    WEFT_FMA(c00, w, b0), WEFT_FMA(c01, w, b1), WEFT_FMA(c02, w, b2);
    w = _mm256_broadcast_ss(a + 1);
    WEFT_FMA(c10, w, b0), WEFT_FMA(c11, w, b1), WEFT_FMA(c12, w, b2);
    w = _mm256_broadcast_ss(a + 2);
    WEFT_FMA(c20, w, b0), WEFT_FMA(c21, w, b1), WEFT_FMA(c22, w, b2);
    w = _mm256_broadcast_ss(a + 3);
    WEFT_FMA(c30, w, b0), WEFT_FMA(c31, w, b1), WEFT_FMA(c32, w, b2);
  }
  const auto store = [out](std::int64_t at, __m256 v0, __m256 v1, __m256 v2) __attribute__((target("avx2"))) {
    _mm256_storeu_ps(out + at, v0), _mm256_storeu_ps(out + at + 8, v1), _mm256_storeu_ps(out + at + 16, v2);
  };
  store(0, c00, c01, c02), store(ld, c10, c11, c12), store(2 * ld, c20, c21, c22), store(3 * ld, c30, c31, c32);
}

// 6 rows × 2 vectors = 12 accumulators, 2 gradient vectors and one broadcast.
__attribute__((target("avx2,fma"))) void gradient_tile_avx2(const std::int64_t* offsets, const float* x,
                                                              const float* d, std::int64_t ldd, std::int64_t length,
                                                              float* acc, std::int64_t ld) {
  float* const r0 = acc, *const r1 = acc + ld, *const r2 = acc + 2 * ld, *const r3 = acc + 3 * ld;
  float* const r4 = acc + 4 * ld, *const r5 = acc + 5 * ld;
  __m256 c00 = _mm256_loadu_ps(r0), c01 = _mm256_loadu_ps(r0 + 8), c10 = _mm256_loadu_ps(r1), c11 = _mm256_loadu_ps(r1 + 8);
  __m256 c20 = _mm256_loadu_ps(r2), c21 = _mm256_loadu_ps(r2 + 8), c30 = _mm256_loadu_ps(r3), c31 = _mm256_loadu_ps(r3 + 8);
  __m256 c40 = _mm256_loadu_ps(r4), c41 = _mm256_loadu_ps(r4 + 8), c50 = _mm256_loadu_ps(r5), c51 = _mm256_loadu_ps(r5 + 8);
  const float *x0 = x + offsets[0], *x1 = x + offsets[1], *x2 = x + offsets[2];
  const float *x3 = x + offsets[3], *x4 = x + offsets[4], *x5 = x + offsets[5];
  for (std::int64_t q = 0; q < length; ++q, d += ldd) {
    const __m256 d0 = _mm256_loadu_ps(d), d1 = _mm256_loadu_ps(d + 8);
    __m256 v = _mm256_broadcast_ss(x0 + q);
    WEFT_FMA(c00, v, d0), WEFT_FMA(c01, v, d1);
    v = _mm256_broadcast_ss(x1 + q);
    WEFT_FMA(c10, v, d0), WEFT_FMA(c11, v, d1);
    v = _mm256_broadcast_ss(x2 + q);
    WEFT_FMA(c20, v, d0), WEFT_FMA(c21, v, d1);
    v = _mm256_broadcast_ss(x3 + q);
    WEFT_FMA(c30, v, d0), WEFT_FMA(c31, v, d1);
    v = _mm256_broadcast_ss(x4 + q);
    WEFT_FMA(c40, v, d0), WEFT_FMA(c41, v, d1);
    v = _mm256_broadcast_ss(x5 + q);
    WEFT_FMA(c50, v, d0), WEFT_FMA(c51, v, d1);
  }
  _mm256_storeu_ps(r0, c00), _mm256_storeu_ps(r0 + 8, c01), _mm256_storeu_ps(r1, c10), _mm256_storeu_ps(r1 + 8, c11);
  _mm256_storeu_ps(r2, c20), _mm256_storeu_ps(r2 + 8, c21), _mm256_storeu_ps(r3, c30), _mm256_storeu_ps(r3 + 8, c31);
  _mm256_storeu_ps(r4, c40), _mm256_storeu_ps(r4 + 8, c41), _mm256_storeu_ps(r5, c50), _mm256_storeu_ps(r5 + 8, c51);
}
#undef WEFT_FMA

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
      float* d = dst + c * ld_dst + r;
      for (int i = 0; i < 4; ++i) {
        _mm256_storeu_ps(d + i * ld_dst, _mm256_permute2f128_ps(v[i], v[i + 4], 0x20));
        _mm256_storeu_ps(d + (i + 4) * ld_dst, _mm256_permute2f128_ps(v[i], v[i + 4], 0x31));
      }
    }
}

bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
bool cpu_has_avx2_fma() { return false; }
#endif

const bool use_avx2 = cpu_has_avx2_fma();

}  // namespace

void window_tile(const float* a, const std::int64_t* offsets, std::int64_t depth, const float* x, const float* init,
                 float* out, std::int64_t ld) {
#ifdef WEFT_WINDOW_AVX2
  if (use_avx2) return window_tile_avx2(a, offsets, depth, x, init, out, ld);
#endif
  window_tile_portable(a, offsets, depth, x, init, out, ld);
}

void gradient_tile(const std::int64_t* offsets, const float* x, const float* d, std::int64_t ldd, std::int64_t length,
                   float* acc, std::int64_t ld) {
#ifdef WEFT_WINDOW_AVX2
  if (use_avx2) return gradient_tile_avx2(offsets, x, d, ldd, length, acc, ld);
#endif
  gradient_tile_portable(offsets, x, d, ldd, length, acc, ld);
}

void transpose_blocks(const float* src, std::int64_t ld_src, std::int64_t rows, std::int64_t cols, float* dst,
                      std::int64_t ld_dst) {
#ifdef WEFT_WINDOW_AVX2
  if (use_avx2) return transpose_blocks_avx2(src, ld_src, rows, cols, dst, ld_dst);
#endif
  transpose_blocks_portable(src, ld_src, rows, cols, dst, ld_dst);
}

}  // namespace weft::builtin
