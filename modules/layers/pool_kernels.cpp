#include "layers/pool_kernels.hpp"

#include <bit>
#include <limits>

#include "layers/vector_isa.hpp"

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
                      std::int64_t count, float* dx) {
  for (std::int64_t ox = 0; ox < count; ++ox) {
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
// Lane i of the result is all ones where i + first < limit: masks for rows shorter than a vector.
__attribute__((target("avx2"))) __m256i lanes_below(std::int64_t limit, int first) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(limit - first)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Eight windows from 16 consecutive inputs of each row (lo, hi: inputs 0-7 and 8-15): the even
// and odd elements, then the same strict-greater chain as the scalar loop, on values and indices
// together. `first_index` is the plane index of window 0's first slot, `width` the distance from
// a top slot to its bottom one. `nan` collects the windows holding a NaN.
struct WindowMaxima {
  __m256 value;
  __m256i index;
};
__attribute__((target("avx2"))) WindowMaxima max_2x2_vectors(__m256 top_lo, __m256 top_hi, __m256 bottom_lo,
                                                               __m256 bottom_hi, std::int32_t first_index,
                                                               std::int32_t width, __m256& nan) {
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);  // undoes shuffle_ps's lane split
  const auto pick = [&](__m256 lo, __m256 hi, int selector) __attribute__((target("avx2"))) {
    const __m256 mixed = selector == 0 ? _mm256_shuffle_ps(lo, hi, 0x88) : _mm256_shuffle_ps(lo, hi, 0xDD);
    return _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(_mm256_castps_si256(mixed), order));
  };
  const __m256 v[4] = {pick(top_lo, top_hi, 0), pick(top_lo, top_hi, 1), pick(bottom_lo, bottom_hi, 0),
                       pick(bottom_lo, bottom_hi, 1)};
  const std::int32_t slot_offset[4] = {0, 1, width, width + 1};
  const __m256i lanes = _mm256_add_epi32(_mm256_set1_epi32(first_index), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
  WindowMaxima m{v[0], lanes};
  nan = _mm256_or_ps(nan, _mm256_cmp_ps(v[0], v[0], _CMP_UNORD_Q));
  for (int j = 1; j < 4; ++j) {
    const __m256 take = _mm256_cmp_ps(v[j], m.value, _CMP_GT_OQ);
    m.value = _mm256_blendv_ps(m.value, v[j], take);
    const __m256i candidate = _mm256_add_epi32(lanes, _mm256_set1_epi32(slot_offset[j]));
    m.index = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(m.index), _mm256_castsi256_ps(candidate), take));
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v[j], v[j], _CMP_UNORD_Q));
  }
  return m;
}

// Whole blocks of eight windows in place. A row of eight or more ends with the block of its last
// eight windows, overlapping the one before (recomputed to the same values); a shorter row reads
// through masks (the missing inputs −∞: never taken, never a NaN) and stores through masks, so
// nothing outside the row is read or written and no copy is made.
__attribute__((target("avx2"))) bool max_2x2_avx2(const float* plane, std::int32_t top, std::int32_t bottom,
                                                   std::int64_t count, std::int32_t* index, float* y) {
  const std::int32_t width = bottom - top;
  __m256 nan = _mm256_setzero_ps();
  const auto block = [&](std::int64_t ox) __attribute__((target("avx2"))) {
    const auto o = static_cast<std::int32_t>(2 * ox);
    const float *t = plane + top + o, *b = plane + bottom + o;
    const WindowMaxima m = max_2x2_vectors(_mm256_loadu_ps(t), _mm256_loadu_ps(t + 8), _mm256_loadu_ps(b),
                                           _mm256_loadu_ps(b + 8), top + o, width, nan);
    _mm256_storeu_ps(y + ox, m.value);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(index + ox), m.index);
  };
  if (count >= 8) {
    for (std::int64_t ox = 0; ox + 8 <= count; ox += 8) block(ox);
    if (count % 8) block(count - 8);
  } else if (count > 0) {
    const std::int64_t inputs = 2 * count;
    const __m256 minus_infinity = _mm256_set1_ps(-__builtin_inff());
    const auto load = [&](const float* row, int first) __attribute__((target("avx2"))) {
      const __m256i live = lanes_below(inputs, first);
      return _mm256_blendv_ps(minus_infinity, _mm256_maskload_ps(row + first, live), _mm256_castsi256_ps(live));
    };
    const WindowMaxima m = max_2x2_vectors(load(plane + top, 0), load(plane + top, 8), load(plane + bottom, 0),
                                           load(plane + bottom, 8), top, width, nan);
    const __m256i live = lanes_below(count, 0);
    _mm256_maskstore_ps(y, live, m.value);
    _mm256_maskstore_epi32(index, live, m.index);
  }
  return _mm256_movemask_ps(nan) == 0;
}

// Eight windows at a time: each slot's value (dy where the index matches, else 0, by masks),
// then the two slots of a row interleaved into its 16 consecutive elements. Rows end as in
// max_2x2_avx2: an overlapping last block, or masks when shorter than eight windows.
__attribute__((target("avx2"))) void route_2x2_avx2(const float* dy, const std::int32_t* index, std::int32_t top,
                                                     std::int32_t bottom, std::int64_t count, float* dx) {
  const __m256i two_lanes = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14), one = _mm256_set1_epi32(1);
  // The 16 elements of one row of the eight windows: the first eight and the last eight.
  struct RowValues {
    __m256 first, second;
  };
  const auto row = [&](__m256 g, __m256i at, __m256i left) __attribute__((target("avx2"))) {
    const __m256 even = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(at, left)));
    const __m256 odd = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(at, _mm256_add_epi32(left, one))));
    const __m256 low = _mm256_unpacklo_ps(even, odd), high = _mm256_unpackhi_ps(even, odd);
    return RowValues{_mm256_permute2f128_ps(low, high, 0x20), _mm256_permute2f128_ps(low, high, 0x31)};
  };
  const auto store = [](float* out, RowValues v) __attribute__((target("avx2"))) {
    _mm256_storeu_ps(out, v.first);
    _mm256_storeu_ps(out + 8, v.second);
  };
  const auto block = [&](std::int64_t ox) __attribute__((target("avx2"))) {
    const auto o = static_cast<std::int32_t>(2 * ox);
    const __m256 g = _mm256_add_ps(_mm256_setzero_ps(), _mm256_loadu_ps(dy + ox));
    const __m256i at = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index + ox));
    store(dx + top + o, row(g, at, _mm256_add_epi32(_mm256_set1_epi32(top + o), two_lanes)));
    store(dx + bottom + o, row(g, at, _mm256_add_epi32(_mm256_set1_epi32(bottom + o), two_lanes)));
  };
  if (count >= 8) {
    for (std::int64_t ox = 0; ox + 8 <= count; ox += 8) block(ox);
    if (count % 8) block(count - 8);
  } else if (count > 0) {
    const __m256i live = lanes_below(count, 0);
    const __m256 g = _mm256_add_ps(_mm256_setzero_ps(), _mm256_maskload_ps(dy, live));
    const __m256i at = _mm256_maskload_epi32(index, live);
    const __m256i first_half = lanes_below(2 * count, 0), second_half = lanes_below(2 * count, 8);
    const auto masked_store = [&](float* out, RowValues v) __attribute__((target("avx2"))) {
      _mm256_maskstore_ps(out, first_half, v.first);
      _mm256_maskstore_ps(out + 8, second_half, v.second);
    };
    masked_store(dx + top, row(g, at, _mm256_add_epi32(_mm256_set1_epi32(top), two_lanes)));
    masked_store(dx + bottom, row(g, at, _mm256_add_epi32(_mm256_set1_epi32(bottom), two_lanes)));
  }
}

#endif

}  // namespace

bool max_2x2_row(const float* plane, std::int32_t top, std::int32_t bottom, std::int64_t count, std::int32_t* index,
                 float* y) {
#ifdef WEFT_POOL_AVX2
  if (vector_isa() != VectorIsa::portable) return max_2x2_avx2(plane, top, bottom, count, index, y);
#endif
  return max_2x2_scalar(plane, top, bottom, count, index, y);
}

void max_2x2_row_nan_rule(const float* plane, std::int32_t top, std::int32_t bottom, std::int64_t count,
                          std::int32_t* index, float* y) {
  if (max_2x2_row(plane, top, bottom, count, index, y)) return;
  for (std::int64_t ox = 0; ox < count; ++ox) {
    const auto o = static_cast<std::int32_t>(2 * ox);
    const std::int32_t slots[4] = {top + o, top + o + 1, bottom + o, bottom + o + 1};
    std::int32_t best = slots[0];
    for (int j = 1; j < 4 && plane[best] == plane[best]; ++j)  // stops at the first NaN
      if (plane[slots[j]] > plane[best] || plane[slots[j]] != plane[slots[j]]) best = slots[j];
    index[ox] = best;
    y[ox] = plane[best] == plane[best] ? plane[best] : std::numeric_limits<float>::quiet_NaN();
  }
}

void route_2x2_row(const float* dy, const std::int32_t* index, std::int32_t top, std::int32_t bottom,
                   std::int64_t count, float* dx_plane) {
#ifdef WEFT_POOL_AVX2
  if (vector_isa() != VectorIsa::portable) return route_2x2_avx2(dy, index, top, bottom, count, dx_plane);
#endif
  route_2x2_scalar(dy, index, top, bottom, count, dx_plane);
}

}  // namespace weft::builtin
