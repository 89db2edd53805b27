#include "layers/pool_kernels.hpp"

#include <bit>
#include <initializer_list>
#include <limits>

#include "layers/vector_isa.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WEFT_POOL_AVX2 1
#endif

namespace weft::builtin {
namespace {

// The rule as stated in the header, one window at a time, on relu's values when `relu`: the
// reference the vector version must match, and its fallback for planes holding a NaN.
void max_pool_scalar(const float* plane, std::int64_t grid_width, std::int64_t height, std::int64_t width, bool relu,
                     std::int32_t* index, float* y) {
  const auto value = [&](std::int32_t slot) {
    const float v = plane[slot];
    return relu && v < 0.0f ? 0.0f : v;
  };
  for (std::int64_t oy = 0; oy < height; ++oy)
    for (std::int64_t ox = 0; ox < width; ++ox) {
      const auto top = static_cast<std::int32_t>(2 * oy * grid_width + 2 * ox);
      const auto below = static_cast<std::int32_t>(top + grid_width);
      const std::int32_t slots[4] = {top, top + 1, below, below + 1};
      std::int32_t best = slots[0];
      float best_value = value(best);
      for (int j = 1; j < 4 && best_value == best_value; ++j) {  // stops at the first NaN
        const float v = value(slots[j]);
        if (v > best_value || v != v) {
          best = slots[j];
          best_value = v;
        }
      }
      index[oy * width + ox] = best;
      y[oy * width + ox] = best_value == best_value ? best_value : std::numeric_limits<float>::quiet_NaN();
    }
}

// 0 + dy (times relu's 1 or 0), as a bit pattern to mask with.
std::uint32_t routed_bits(const float* dy, const float* relu_y, std::int64_t w) {
  float g = dy[w];
  if (relu_y) g *= std::bit_cast<float>((0u - static_cast<std::uint32_t>(relu_y[w] > 0.0f)) & 0x3f800000u);
  return std::bit_cast<std::uint32_t>(0.0f + g);
}

// Selected by bit masks: branches on where the maximum was mispredict on real data.
void route_scalar(const float* dy, const float* relu_y, const std::int32_t* index, std::int64_t grid_width,
                  std::int64_t height, std::int64_t width, float* dx) {
  for (std::int64_t oy = 0; oy < height; ++oy)
    for (std::int64_t ox = 0; ox < width; ++ox) {
      const std::int64_t w = oy * width + ox;
      const auto left = static_cast<std::int32_t>(2 * oy * grid_width + 2 * ox);
      const auto lower = static_cast<std::int32_t>(left + grid_width);
      const std::int32_t at = index[w];
      const std::uint32_t g = routed_bits(dy, relu_y, w);
      const auto if_at = [&](std::int32_t i) { return std::bit_cast<float>(g & (0u - static_cast<std::uint32_t>(at == i))); };
      dx[left] = if_at(left);
      dx[left + 1] = if_at(left + 1);
      dx[lower] = if_at(lower);
      dx[lower + 1] = if_at(lower + 1);
    }
}

#ifdef WEFT_POOL_AVX2
// Lane i of the result is all ones where i + first < limit: masks for rows shorter than a vector.
__attribute__((target("avx2"))) inline __m256i lanes_below(std::int64_t limit, int first) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(limit - first)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Eight windows from 16 consecutive inputs of each row (lo, hi: inputs 0-7 and 8-15): the even
// and odd elements, then the same strict-greater chain as the scalar loop, on values and indices
// together. `first_index` is the plane index of window 0's first slot, `grid_width` the distance
// from a top slot to its bottom one. `nan` collects the windows holding a NaN. With `relu`, the
// value is relu's: the raw maximum where it is positive, else relu(first slot) — relu'd slots
// are then all zeros and the chain keeps the first, whose sign relu(first slot) carries.
__attribute__((target("avx2"), always_inline)) inline void max_2x2_block(__m256 top_lo, __m256 top_hi, __m256 bottom_lo,
                                                                          __m256 bottom_hi, std::int32_t first_index,
                                                                          std::int32_t grid_width, bool relu,
                                                                          __m256& nan, __m256& value, __m256i& index) {
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);  // undoes shuffle_ps's lane split
  const auto even = [&](__m256 lo, __m256 hi) __attribute__((target("avx2"))) {
    return _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(_mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0x88)), order));
  };
  const auto odd = [&](__m256 lo, __m256 hi) __attribute__((target("avx2"))) {
    return _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(_mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0xDD)), order));
  };
  const __m256 v[4] = {even(top_lo, top_hi), odd(top_lo, top_hi), even(bottom_lo, bottom_hi), odd(bottom_lo, bottom_hi)};
  const std::int32_t slot_offset[4] = {0, 1, grid_width, grid_width + 1};
  const __m256i lanes = _mm256_add_epi32(_mm256_set1_epi32(first_index), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
  value = v[0];
  index = lanes;
  nan = _mm256_or_ps(nan, _mm256_cmp_ps(v[0], v[0], _CMP_UNORD_Q));
  for (int j = 1; j < 4; ++j) {
    const __m256 take = _mm256_cmp_ps(v[j], value, _CMP_GT_OQ);
    value = _mm256_blendv_ps(value, v[j], take);
    const __m256i candidate = _mm256_add_epi32(lanes, _mm256_set1_epi32(slot_offset[j]));
    index = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(index), _mm256_castsi256_ps(candidate), take));
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v[j], v[j], _CMP_UNORD_Q));
  }
  if (relu) {
    const __m256 zero = _mm256_setzero_ps();
    const __m256 relu_first = _mm256_blendv_ps(v[0], zero, _mm256_cmp_ps(v[0], zero, _CMP_LT_OQ));
    value = _mm256_blendv_ps(relu_first, value, _mm256_cmp_ps(value, zero, _CMP_GT_OQ));
  }
}

// Whole blocks of eight windows in place. A row of eight or more ends with the block of its last
// eight windows, overlapping the one before (recomputed to the same values); a shorter row reads
// through masks (the missing inputs −∞: never taken, never a NaN) and stores through masks, so
// nothing outside the row is read or written and no copy is made. False when a NaN was seen.
__attribute__((target("avx2"))) bool max_pool_avx2(const float* plane, std::int64_t grid_width, std::int64_t height,
                                                    std::int64_t width, bool relu, std::int32_t* index, float* y) {
  const auto gw = static_cast<std::int32_t>(grid_width);
  __m256 nan = _mm256_setzero_ps(), value;
  __m256i at;
  if (width >= 8) {
    for (std::int64_t oy = 0; oy < height; ++oy) {
      const auto top = static_cast<std::int32_t>(2 * oy * grid_width);
      const auto block = [&](std::int64_t ox) __attribute__((target("avx2"), always_inline)) {
        const float* t = plane + top + 2 * ox;
        max_2x2_block(_mm256_loadu_ps(t), _mm256_loadu_ps(t + 8), _mm256_loadu_ps(t + gw), _mm256_loadu_ps(t + gw + 8),
                      top + static_cast<std::int32_t>(2 * ox), gw, relu, nan, value, at);
        _mm256_storeu_ps(y + oy * width + ox, value);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(index + oy * width + ox), at);
      };
      for (std::int64_t ox = 0; ox + 8 <= width; ox += 8) block(ox);
      if (width % 8) block(width - 8);
    }
  } else if (width > 0) {
    const __m256i lo = lanes_below(2 * width, 0), hi = lanes_below(2 * width, 8), live = lanes_below(width, 0);
    const __m256 minus_infinity = _mm256_set1_ps(-__builtin_inff());
    const auto load = [&](const float* p, __m256i mask) __attribute__((target("avx2"), always_inline)) {
      return _mm256_blendv_ps(minus_infinity, _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
    };
    for (std::int64_t oy = 0; oy < height; ++oy) {
      const auto top = static_cast<std::int32_t>(2 * oy * grid_width);
      const float* t = plane + top;
      max_2x2_block(load(t, lo), load(t + 8, hi), load(t + gw, lo), load(t + gw + 8, hi), top, gw, relu, nan, value, at);
      _mm256_maskstore_ps(y + oy * width, live, value);
      _mm256_maskstore_epi32(index + oy * width, live, at);
    }
  }
  return _mm256_movemask_ps(nan) == 0;
}

// g = 0 + dy (· relu's 1 or 0 from the pooled output when relu), for eight windows.
__attribute__((target("avx2"), always_inline)) inline __m256 routed_gradient(__m256 dy, const float* relu_y,
                                                                              __m256 relu_value) {
  const __m256 zero = _mm256_setzero_ps();
  if (relu_y) dy = _mm256_mul_ps(dy, _mm256_and_ps(_mm256_cmp_ps(relu_value, zero, _CMP_GT_OQ), _mm256_set1_ps(1.0f)));
  return _mm256_add_ps(zero, dy);
}

// The 16 elements of one grid row under eight windows whose left slots in that row are at
// `left`, left + 2, ...: g where the window's index points, else 0; first and last eight.
__attribute__((target("avx2"), always_inline)) inline void routed_row(__m256 g, __m256i at, std::int32_t left,
                                                                       __m256& first, __m256& second) {
  const __m256i lefts = _mm256_add_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
  const __m256 even = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(at, lefts)));
  const __m256 odd = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(at, _mm256_add_epi32(lefts, _mm256_set1_epi32(1)))));
  const __m256 low = _mm256_unpacklo_ps(even, odd), high = _mm256_unpackhi_ps(even, odd);
  first = _mm256_permute2f128_ps(low, high, 0x20);
  second = _mm256_permute2f128_ps(low, high, 0x31);
}

// Eight windows at a time, both grid rows of each. Rows end as in max_pool_avx2: an overlapping
// last block, or masks when shorter than eight windows.
__attribute__((target("avx2"))) void route_avx2(const float* dy, const float* relu_y, const std::int32_t* index,
                                                 std::int64_t grid_width, std::int64_t height, std::int64_t width,
                                                 float* dx) {
  const __m256 zero = _mm256_setzero_ps();
  __m256 first, second;
  if (width >= 8) {
    for (std::int64_t oy = 0; oy < height; ++oy) {
      const auto top = static_cast<std::int32_t>(2 * oy * grid_width), bottom = static_cast<std::int32_t>(top + grid_width);
      const auto block = [&](std::int64_t ox) __attribute__((target("avx2"), always_inline)) {
        const std::int64_t w = oy * width + ox;
        const auto o = static_cast<std::int32_t>(2 * ox);
        const __m256 g = routed_gradient(_mm256_loadu_ps(dy + w), relu_y, relu_y ? _mm256_loadu_ps(relu_y + w) : zero);
        const __m256i at = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index + w));
        for (const std::int32_t row : {top, bottom}) {
          routed_row(g, at, row + o, first, second);
          _mm256_storeu_ps(dx + row + o, first);
          _mm256_storeu_ps(dx + row + o + 8, second);
        }
      };
      for (std::int64_t ox = 0; ox + 8 <= width; ox += 8) block(ox);
      if (width % 8) block(width - 8);
    }
  } else if (width > 0) {
    const __m256i live = lanes_below(width, 0), first_half = lanes_below(2 * width, 0), second_half = lanes_below(2 * width, 8);
    for (std::int64_t oy = 0; oy < height; ++oy) {
      const auto top = static_cast<std::int32_t>(2 * oy * grid_width), bottom = static_cast<std::int32_t>(top + grid_width);
      const std::int64_t w = oy * width;
      const __m256 g = routed_gradient(_mm256_maskload_ps(dy + w, live), relu_y,
                                       relu_y ? _mm256_maskload_ps(relu_y + w, live) : zero);
      const __m256i at = _mm256_maskload_epi32(index + w, live);
      for (const std::int32_t row : {top, bottom}) {
        routed_row(g, at, row, first, second);
        _mm256_maskstore_ps(dx + row, first_half, first);
        _mm256_maskstore_ps(dx + row + 8, second_half, second);
      }
    }
  }
}

#endif

}  // namespace

void max_pool_2x2_plane(const float* plane, std::int64_t grid_width, std::int64_t height, std::int64_t width, bool relu,
                        std::int32_t* index, float* y) {
#ifdef WEFT_POOL_AVX2
  if (vector_isa() != VectorIsa::portable && max_pool_avx2(plane, grid_width, height, width, relu, index, y)) return;
#endif
  max_pool_scalar(plane, grid_width, height, width, relu, index, y);
}

void route_2x2_plane(const float* dy, const float* relu_y, const std::int32_t* index, std::int64_t grid_width,
                     std::int64_t height, std::int64_t width, float* dx_plane) {
#ifdef WEFT_POOL_AVX2
  if (vector_isa() != VectorIsa::portable) return route_avx2(dy, relu_y, index, grid_width, height, width, dx_plane);
#endif
  route_scalar(dy, relu_y, index, grid_width, height, width, dx_plane);
}

}  // namespace weft::builtin
