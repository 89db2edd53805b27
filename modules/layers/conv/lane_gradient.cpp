// lane_gradient.hpp in three versions that differ only in how many (row, filter) pairs one
// pass over the positions serves: AVX-512 (a 16-lane set is one register), AVX2 (two) and a
// portable loop (std::fma on an array). The last vector of a row is read through a mask, so
// every version adds 0 · 0 to the lanes past `length`, as the portable loop does.
#include "layers/conv/lane_gradient.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "layers/vector_isa.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WEFT_LANES_X86 1
#endif

namespace weft::builtin {
namespace {

constexpr std::int64_t L = gradient_lanes;

// The rows split into `chunk`-row tiles as even as they can be (13 rows at most 12 a tile: 7 + 6,
// not 12 + 1, whose second tile would read the gradient again for one row).
std::int64_t even_chunk(std::int64_t rows, std::int64_t most) {
  const std::int64_t tiles = (rows + most - 1) / most;
  return (rows + tiles - 1) / tiles;
}

void lane_gradient_portable(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                            std::int64_t positions, std::int64_t filters, std::int64_t length, float* lanes,
                            float* bias_lanes) {
  for (std::int64_t f = 0; f < filters; ++f) {
    const float* df = d + f * positions;
    for (std::int64_t q = 0; q < length; q += L)
      for (std::int64_t j = 0; j < L; ++j) {
        const bool inside = q + j < length;
        const float dv = inside ? df[q + j] : 0.0f;
        if (bias_lanes) bias_lanes[f * L + j] += dv;
        for (std::int64_t r = 0; r < rows; ++r) {
          float& lane = lanes[(f * rows + r) * L + j];
          lane = std::fma(inside ? x[offsets[r] + q + j] : 0.0f, dv, lane);
        }
      }
  }
}

#ifdef WEFT_LANES_X86
// ---- AVX-512: Rows × Filters pairs of one register each -------------------------------------
#define WEFT_TARGET_512 __attribute__((target("avx512f")))

// Up to 12 rows × 2 filters: 24 lane sets, 2 bias sets, 2 gradient vectors, one input vector.
template <int Rows, int Filters>
WEFT_TARGET_512 void lane_tile_avx512(const std::int64_t* offsets, const float* x, const float* d,
                                      std::int64_t positions, std::int64_t filter_step, std::int64_t length,
                                      float* lanes, float* bias_lanes) {
  static_assert(Rows >= 1 && Rows <= 12 && (Filters == 1 || Filters == 2));
  const float* d0 = d;
  const float* d1 = d + positions;
  __m512 b0 = bias_lanes ? _mm512_loadu_ps(bias_lanes) : _mm512_setzero_ps(), b1 = b0;
  if (Filters == 2 && bias_lanes) b1 = _mm512_loadu_ps(bias_lanes + L);
#define WEFT_ROW(i)                                                                      \
  const float* const x##i = x + offsets[i < Rows ? i : 0];                                \
  __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = c##i##0;                                \
  if constexpr (i < Rows) {                                                               \
    c##i##0 = _mm512_loadu_ps(lanes + i * L);                                             \
    if constexpr (Filters == 2) c##i##1 = _mm512_loadu_ps(lanes + filter_step + i * L);   \
  }
  WEFT_ROW(0) WEFT_ROW(1) WEFT_ROW(2) WEFT_ROW(3) WEFT_ROW(4) WEFT_ROW(5)
  WEFT_ROW(6) WEFT_ROW(7) WEFT_ROW(8) WEFT_ROW(9) WEFT_ROW(10) WEFT_ROW(11)
#undef WEFT_ROW
  // One block of 16 positions from q; `mask` keeps those below length.
  const auto block = [&](std::int64_t q, __mmask16 mask) WEFT_TARGET_512 __attribute__((always_inline)) {
    const __m512 g0 = _mm512_maskz_loadu_ps(mask, d0 + q);
    const __m512 g1 = Filters == 2 ? _mm512_maskz_loadu_ps(mask, d1 + q) : g0;
    if (bias_lanes) {
      b0 = _mm512_add_ps(b0, g0);
      if constexpr (Filters == 2) b1 = _mm512_add_ps(b1, g1);
    }
    // The empty asm keeps each input vector in a register: GCC otherwise folds the load into
    // both multiply-adds, and the doubled (mostly line-splitting) loads bound the loop.
#define WEFT_STEP(i)                                                       \
  if constexpr (i < Rows) {                                                \
    __m512 v = _mm512_maskz_loadu_ps(mask, x##i + q);                      \
    if constexpr (Filters == 2) __asm__("" : "+v"(v));                     \
    c##i##0 = _mm512_fmadd_ps(v, g0, c##i##0);                             \
    if constexpr (Filters == 2) c##i##1 = _mm512_fmadd_ps(v, g1, c##i##1); \
  }
    WEFT_STEP(0) WEFT_STEP(1) WEFT_STEP(2) WEFT_STEP(3) WEFT_STEP(4) WEFT_STEP(5)
    WEFT_STEP(6) WEFT_STEP(7) WEFT_STEP(8) WEFT_STEP(9) WEFT_STEP(10) WEFT_STEP(11)
#undef WEFT_STEP
  };
  std::int64_t q = 0;
  for (; q + L <= length; q += L) block(q, 0xFFFF);
  if (q < length) block(q, static_cast<__mmask16>((1u << (length - q)) - 1));
#define WEFT_STORE(i)                                                                      \
  if constexpr (i < Rows) {                                                                \
    _mm512_storeu_ps(lanes + i * L, c##i##0);                                              \
    if constexpr (Filters == 2) _mm512_storeu_ps(lanes + filter_step + i * L, c##i##1);    \
  }
  WEFT_STORE(0) WEFT_STORE(1) WEFT_STORE(2) WEFT_STORE(3) WEFT_STORE(4) WEFT_STORE(5)
  WEFT_STORE(6) WEFT_STORE(7) WEFT_STORE(8) WEFT_STORE(9) WEFT_STORE(10) WEFT_STORE(11)
#undef WEFT_STORE
  if (bias_lanes) {
    _mm512_storeu_ps(bias_lanes, b0);
    if constexpr (Filters == 2) _mm512_storeu_ps(bias_lanes + L, b1);
  }
}
#undef WEFT_TARGET_512

// ---- AVX2: a 16-lane set is two registers (lanes 0-7, 8-15); up to 4 rows × 1 filter ---------
template <int Rows>
__attribute__((target("avx2,fma"))) void lane_tile_avx2(const std::int64_t* offsets, const float* x, const float* d,
                                                         std::int64_t length, float* lanes, float* bias_lanes) {
  static_assert(Rows >= 1 && Rows <= 4);
  __m256 b_lo = _mm256_setzero_ps(), b_hi = b_lo;
  if (bias_lanes) b_lo = _mm256_loadu_ps(bias_lanes), b_hi = _mm256_loadu_ps(bias_lanes + 8);
#define WEFT_ROW(i)                                                 \
  const float* const x##i = x + offsets[i < Rows ? i : 0];           \
  __m256 c##i##lo = _mm256_setzero_ps(), c##i##hi = c##i##lo;        \
  if constexpr (i < Rows) {                                          \
    c##i##lo = _mm256_loadu_ps(lanes + i * L);                       \
    c##i##hi = _mm256_loadu_ps(lanes + i * L + 8);                   \
  }
  WEFT_ROW(0) WEFT_ROW(1) WEFT_ROW(2) WEFT_ROW(3)
#undef WEFT_ROW
  const __m256i lane_index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // One block of 16 positions from q: whole (plain loads) or the last, `left` < 16 (masked).
  const auto block = [&]<bool Whole>(std::int64_t q, std::int64_t left) __attribute__((target("avx2,fma"), always_inline)) {
    const __m256i m_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left)), lane_index);
    const __m256i m_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left - 8)), lane_index);
    const auto load = [&](const float* p, __m256i m) __attribute__((target("avx2"), always_inline)) {
      return Whole ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
    };
    const __m256 g_lo = load(d + q, m_lo), g_hi = load(d + q + 8, m_hi);
    if (bias_lanes) b_lo = _mm256_add_ps(b_lo, g_lo), b_hi = _mm256_add_ps(b_hi, g_hi);
#define WEFT_STEP(i)                                                       \
  if constexpr (i < Rows) {                                                \
    c##i##lo = _mm256_fmadd_ps(load(x##i + q, m_lo), g_lo, c##i##lo);      \
    c##i##hi = _mm256_fmadd_ps(load(x##i + q + 8, m_hi), g_hi, c##i##hi);  \
  }
    WEFT_STEP(0) WEFT_STEP(1) WEFT_STEP(2) WEFT_STEP(3)
#undef WEFT_STEP
  };
  std::int64_t q = 0;
  for (; q + L <= length; q += L) block.template operator()<true>(q, L);
  if (q < length) block.template operator()<false>(q, length - q);
#define WEFT_STORE(i)                                          \
  if constexpr (i < Rows) {                                    \
    _mm256_storeu_ps(lanes + i * L, c##i##lo);                 \
    _mm256_storeu_ps(lanes + i * L + 8, c##i##hi);             \
  }
  WEFT_STORE(0) WEFT_STORE(1) WEFT_STORE(2) WEFT_STORE(3)
#undef WEFT_STORE
  if (bias_lanes) _mm256_storeu_ps(bias_lanes, b_lo), _mm256_storeu_ps(bias_lanes + 8, b_hi);
}

// The tile functions for 1..N rows, indexed by rows − 1.
template <int Filters, std::size_t... R>
constexpr auto avx512_tiles(std::index_sequence<R...>) {
  return std::array{&lane_tile_avx512<static_cast<int>(R) + 1, Filters>...};
}
template <std::size_t... R>
constexpr auto avx2_tiles(std::index_sequence<R...>) {
  return std::array{&lane_tile_avx2<static_cast<int>(R) + 1>...};
}

// Filters in pairs, rows in even tiles of at most 12; the bias sums ride on the first row tile.
void lane_gradient_avx512(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                          std::int64_t positions, std::int64_t filters, std::int64_t length, float* lanes,
                          float* bias_lanes) {
  static constexpr auto pairs = avx512_tiles<2>(std::make_index_sequence<12>());
  static constexpr auto singles = avx512_tiles<1>(std::make_index_sequence<12>());
  const std::int64_t chunk = even_chunk(rows, 12);
  for (std::int64_t f = 0; f < filters; f += 2) {
    const auto& tiles = f + 2 <= filters ? pairs : singles;
    for (std::int64_t r = 0; r < rows; r += chunk) {
      const std::int64_t n = std::min(chunk, rows - r);
      tiles[static_cast<std::size_t>(n - 1)](offsets + r, x, d + f * positions, positions, rows * L, length,
                                             lanes + (f * rows + r) * L,
                                             bias_lanes && r == 0 ? bias_lanes + f * L : nullptr);
    }
  }
}

void lane_gradient_avx2(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                        std::int64_t positions, std::int64_t filters, std::int64_t length, float* lanes,
                        float* bias_lanes) {
  static constexpr auto tiles = avx2_tiles(std::make_index_sequence<4>());
  const std::int64_t chunk = even_chunk(rows, 4);
  for (std::int64_t f = 0; f < filters; ++f)
    for (std::int64_t r = 0; r < rows; r += chunk) {
      const std::int64_t n = std::min(chunk, rows - r);
      tiles[static_cast<std::size_t>(n - 1)](offsets + r, x, d + f * positions, length, lanes + (f * rows + r) * L,
                                             bias_lanes && r == 0 ? bias_lanes + f * L : nullptr);
    }
}
#endif

}  // namespace

void lane_gradient_product(const std::int64_t* offsets, std::int64_t rows, const float* x, const float* d,
                           std::int64_t positions, std::int64_t filters, std::int64_t length, float* lanes,
                           float* bias_lanes) {
  switch (vector_isa()) {
#ifdef WEFT_LANES_X86
    case VectorIsa::avx512: return lane_gradient_avx512(offsets, rows, x, d, positions, filters, length, lanes, bias_lanes);
    case VectorIsa::avx2: return lane_gradient_avx2(offsets, rows, x, d, positions, filters, length, lanes, bias_lanes);
#endif
    default: return lane_gradient_portable(offsets, rows, x, d, positions, filters, length, lanes, bias_lanes);
  }
}

float lane_sum(const float* lanes) {
  std::array<float, L> s;
  for (std::int64_t j = 0; j < L; ++j) s[static_cast<std::size_t>(j)] = lanes[j];
  for (std::size_t half = L / 2; half > 0; half /= 2)
    for (std::size_t j = 0; j < half; ++j) s[j] += s[j + half];
  return s[0];
}

}  // namespace weft::builtin
