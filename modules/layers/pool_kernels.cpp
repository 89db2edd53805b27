#include "layers/pool_kernels.hpp"

#include <bit>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WEFT_POOL_AVX2 1
#endif

namespace weft::builtin {
namespace {

// One window at a time; false on a NaN.
bool max_2x2_scalar(const float* plane, std::int32_t top, std::int32_t bottom, std::int64_t count, std::int32_t* index,
                    float* y) {
  bool finite_order = true;
  for (std::int64_t ox = 0; ox < count; ++ox) {
    const auto o = static_cast<std::int32_t>(2 * ox);
    const std::int32_t slots[4] = {top + o, top + o + 1, bottom + o, bottom + o + 1};
    std::int32_t best = slots[0];
    float best_value = plane[best];
    finite_order = finite_order && best_value == best_value;
    for (int j = 1; j < 4; ++j) {
      const float value = plane[slots[j]];
      const bool take = value > best_value;
      best = take ? slots[j] : best;
      best_value = take ? value : best_value;
      finite_order = finite_order && value == value;
    }
    index[ox] = best;
    y[ox] = best_value;
  }
  return finite_order;
}

// Selected by bit masks: branches on where the maximum was mispredict on real data.
void route_2x2_scalar(const float* dy, const std::int32_t* index, std::int32_t top, std::int32_t bottom,
                      std::int64_t begin, std::int64_t count, float* dx) {
  for (std::int64_t ox = begin; ox < count; ++ox) {
    const std::int32_t at = index[ox], left = top + static_cast<std::int32_t>(2 * ox), lower = left + bottom - top;
    const std::uint32_t g = std::bit_cast<std::uint32_t>(0.0f + dy[ox]);
    const auto if_at = [&](std::int32_t i) { return std::bit_cast<float>(g & (0u - static_cast<std::uint32_t>(at == i))); };
    dx[left] = if_at(left);
    dx[left + 1] = if_at(left + 1);
    dx[lower] = if_at(lower);
    dx[lower + 1] = if_at(lower + 1);
  }
}

#ifdef WEFT_POOL_AVX2
// Eight windows at a time: the even and odd elements of 16 consecutive inputs of each row,
// then the same strict-greater chain as the scalar loop, on values and indices together.
// `top_row`/`bottom_row` point at the first of the 16 inputs; `first_index` is the plane index
// of window 0's first slot, `width` the distance from a top slot to its bottom one.
// Returns the NaN mask of the eight windows.
__attribute__((target("avx2"))) __m256 max_2x2_block(const float* top_row, const float* bottom_row,
                                                      std::int32_t first_index, std::int32_t width, std::int32_t* index,
                                                      float* y) {
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);  // undoes shuffle_ps's lane split
  const auto split = [&](const float* row, __m256& even, __m256& odd) __attribute__((target("avx2"))) {
    const __m256 lo = _mm256_loadu_ps(row), hi = _mm256_loadu_ps(row + 8);
    even = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(_mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0x88)), order));
    odd = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(_mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0xDD)), order));
  };
  __m256 v[4];
  split(top_row, v[0], v[1]);
  split(bottom_row, v[2], v[3]);
  const std::int32_t slot_offset[4] = {0, 1, width, width + 1};
  const __m256i lanes = _mm256_add_epi32(_mm256_set1_epi32(first_index), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
  __m256 best = v[0], nan = _mm256_cmp_ps(v[0], v[0], _CMP_UNORD_Q);
  __m256i best_index = lanes;
  for (int j = 1; j < 4; ++j) {
    const __m256 take = _mm256_cmp_ps(v[j], best, _CMP_GT_OQ);
    best = _mm256_blendv_ps(best, v[j], take);
    const __m256i candidate = _mm256_add_epi32(lanes, _mm256_set1_epi32(slot_offset[j]));
    best_index =
        _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(best_index), _mm256_castsi256_ps(candidate), take));
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v[j], v[j], _CMP_UNORD_Q));
  }
  _mm256_storeu_ps(y, best);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(index), best_index);
  return nan;
}

// Whole blocks in place; the last partial block from copies padded with −∞ (never taken, never
// a NaN), so a row never reads past its end.
__attribute__((target("avx2"))) bool max_2x2_avx2(const float* plane, std::int32_t top, std::int32_t bottom,
                                                   std::int64_t count, std::int32_t* index, float* y) {
  const std::int32_t width = bottom - top;
  __m256 nan = _mm256_setzero_ps();
  std::int64_t ox = 0;
  for (; ox + 8 <= count; ox += 8) {
    const auto o = static_cast<std::int32_t>(2 * ox);
    nan = _mm256_or_ps(nan, max_2x2_block(plane + top + o, plane + bottom + o, top + o, width, index + ox, y + ox));
  }
  if (ox < count) {
    const auto o = static_cast<std::int32_t>(2 * ox);
    const std::int64_t inputs = 2 * (count - ox);
    float top_copy[16], bottom_copy[16], y_block[8];
    std::int32_t index_block[8];
    for (std::int64_t i = 0; i < 16; ++i) {
      top_copy[i] = i < inputs ? plane[top + o + i] : -__builtin_inff();
      bottom_copy[i] = i < inputs ? plane[bottom + o + i] : -__builtin_inff();
    }
    nan = _mm256_or_ps(nan, max_2x2_block(top_copy, bottom_copy, top + o, width, index_block, y_block));
    for (std::int64_t i = 0; i < count - ox; ++i) index[ox + i] = index_block[i], y[ox + i] = y_block[i];
  }
  return _mm256_movemask_ps(nan) == 0;
}

// Eight windows at a time: each slot's value (dy where the index matches, else 0, by masks),
// then the two slots of a row interleaved into its 16 consecutive elements.
__attribute__((target("avx2"))) void route_2x2_avx2(const float* dy, const std::int32_t* index, std::int32_t top,
                                                     std::int32_t bottom, std::int64_t count, float* dx) {
  const __m256i two_lanes = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14), one = _mm256_set1_epi32(1);
  const auto row = [&](float* out, __m256 g, __m256i at, __m256i left) __attribute__((target("avx2"))) {
    const __m256 even = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(at, left)));
    const __m256 odd = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(at, _mm256_add_epi32(left, one))));
    const __m256 low = _mm256_unpacklo_ps(even, odd), high = _mm256_unpackhi_ps(even, odd);
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(low, high, 0x20));
    _mm256_storeu_ps(out + 8, _mm256_permute2f128_ps(low, high, 0x31));
  };
  std::int64_t ox = 0;
  for (; ox + 8 <= count; ox += 8) {
    const auto o = static_cast<std::int32_t>(2 * ox);
    const __m256 g = _mm256_add_ps(_mm256_setzero_ps(), _mm256_loadu_ps(dy + ox));
    const __m256i at = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index + ox));
    row(dx + top + o, g, at, _mm256_add_epi32(_mm256_set1_epi32(top + o), two_lanes));
    row(dx + bottom + o, g, at, _mm256_add_epi32(_mm256_set1_epi32(bottom + o), two_lanes));
  }
  if (ox < count) {  // the last windows through the same vectors, by masked loads and a copy
    const auto o = static_cast<std::int32_t>(2 * ox);
    const std::int64_t tail = count - ox;
    const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(tail)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256 g = _mm256_add_ps(_mm256_setzero_ps(), _mm256_maskload_ps(dy + ox, live));
    const __m256i at = _mm256_maskload_epi32(index + ox, live);
    alignas(32) float upper[16], lower[16];
    row(upper, g, at, _mm256_add_epi32(_mm256_set1_epi32(top + o), two_lanes));
    row(lower, g, at, _mm256_add_epi32(_mm256_set1_epi32(bottom + o), two_lanes));
    for (std::int64_t i = 0; i < 2 * tail; ++i) {
      dx[top + o + i] = upper[i];
      dx[bottom + o + i] = lower[i];
    }
  }
}

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
const bool use_avx2 = cpu_has_avx2();
#endif

}  // namespace

bool max_2x2_row(const float* plane, std::int32_t top, std::int32_t bottom, std::int64_t count, std::int32_t* index,
                 float* y) {
#ifdef WEFT_POOL_AVX2
  if (use_avx2) return max_2x2_avx2(plane, top, bottom, count, index, y);
#endif
  return max_2x2_scalar(plane, top, bottom, count, index, y);
}

void route_2x2_row(const float* dy, const std::int32_t* index, std::int32_t top, std::int32_t bottom,
                   std::int64_t count, float* dx_plane) {
#ifdef WEFT_POOL_AVX2
  if (use_avx2) return route_2x2_avx2(dy, index, top, bottom, count, dx_plane);
#endif
  route_2x2_scalar(dy, index, top, bottom, 0, count, dx_plane);
}

}  // namespace weft::builtin
