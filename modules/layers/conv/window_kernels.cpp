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

#ifdef WEFT_WINDOW_AVX2
static_assert(window_rows == 4 && window_cols == 24 && gradient_rows == 6 && gradient_cols == 16,
              "the AVX2 tiles below are written out for these sizes");

// 4 rows × 3 vectors = 12 accumulators, 3 input vectors and one broadcast: 16 ymm registers.
__attribute__((target("avx2,fma"))) void window_tile_avx2(const float* a, const std::int64_t* offsets,
                                                            std::int64_t depth, const float* x, const float* init,
                                                            float* out, std::int64_t ld) {
  __m256 c[4][3];
  for (int r = 0; r < 4; ++r) c[r][0] = c[r][1] = c[r][2] = _mm256_broadcast_ss(init + r);
  for (std::int64_t k = 0; k < depth; ++k, a += 4) {
    const float* b = x + offsets[k];
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), b2 = _mm256_loadu_ps(b + 16);
    for (int r = 0; r < 4; ++r) {
      const __m256 w = _mm256_broadcast_ss(a + r);
      c[r][0] = _mm256_fmadd_ps(w, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(w, b1, c[r][1]);
      c[r][2] = _mm256_fmadd_ps(w, b2, c[r][2]);
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int v = 0; v < 3; ++v) _mm256_storeu_ps(out + r * ld + 8 * v, c[r][v]);
}

// 6 rows × 2 vectors = 12 accumulators, 2 gradient vectors and one broadcast.
__attribute__((target("avx2,fma"))) void gradient_tile_avx2(const std::int64_t* offsets, const float* x,
                                                              const float* d, std::int64_t ldd, std::int64_t length,
                                                              float* acc, std::int64_t ld) {
  __m256 c[6][2];
  const float* row[6];
  for (int r = 0; r < 6; ++r) {
    c[r][0] = _mm256_loadu_ps(acc + r * ld);
    c[r][1] = _mm256_loadu_ps(acc + r * ld + 8);
    row[r] = x + offsets[r];
  }
  for (std::int64_t q = 0; q < length; ++q, d += ldd) {
    const __m256 d0 = _mm256_loadu_ps(d), d1 = _mm256_loadu_ps(d + 8);
    for (int r = 0; r < 6; ++r) {
      const __m256 v = _mm256_broadcast_ss(row[r] + q);
      c[r][0] = _mm256_fmadd_ps(v, d0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(v, d1, c[r][1]);
    }
  }
  for (int r = 0; r < 6; ++r) {
    _mm256_storeu_ps(acc + r * ld, c[r][0]);
    _mm256_storeu_ps(acc + r * ld + 8, c[r][1]);
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

}  // namespace weft::builtin
