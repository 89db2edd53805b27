// AVX2 where the CPU has it (compiled for that target alone, picked by layers/vector_isa.hpp), a
// plain loop elsewhere. Copies are exact either way. (An AVX-512 version measured no faster: the
// copies wait on memory, not on instructions.)
#include "layers/conv/grid_copy.hpp"

#include <algorithm>

#include "layers/vector_isa.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WEFT_GRID_COPY_AVX2 1
#endif

namespace weft::builtin {
namespace {

// What happens to each value on the way: copied, through relu, or masked by a relu output.
enum class Op { copy, relu, relu_gradient };

void copy_rows_portable(const std::vector<std::int64_t>& from_rows, const float* from, std::int64_t from_stride,
                        const std::vector<std::int64_t>& to_rows, float* to, std::int64_t to_stride,
                        std::int64_t channels, std::int64_t length, Op op, const float* mask) {
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::size_t i = 0; i < from_rows.size(); ++i) {
      const float* s = from + c * from_stride + from_rows[i];
      const float* m = mask ? mask + c * from_stride + from_rows[i] : nullptr;
      float* d = to + c * to_stride + to_rows[i];
      for (std::int64_t j = 0; j < length; ++j) {
        if (op == Op::relu)
          d[j] = s[j] < 0.0f ? 0.0f : s[j];  // apply_relu's rule
        else if (op == Op::relu_gradient)
          d[j] = s[j] * (m[j] > 0.0f ? 1.0f : 0.0f);  // mask_relu_gradient's
        else
          d[j] = s[j];
      }
    }
}

#ifdef WEFT_GRID_COPY_AVX2
template <Op op>
__attribute__((target("avx2"))) void copy_rows_avx2(const std::vector<std::int64_t>& from_rows, const float* from,
                                                     std::int64_t from_stride, const std::vector<std::int64_t>& to_rows,
                                                     float* to, std::int64_t to_stride, std::int64_t channels,
                                                     std::int64_t length, const float* mask) {
  const std::int64_t whole = length / 8 * 8;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(length - whole)), lane);
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const auto apply = [zero, one](__m256 v, __m256 m) __attribute__((target("avx2"))) {
    // apply_relu's rule (v < 0 ? 0 : v), so NaN and −0 pass unchanged as they do there;
    // mask_relu_gradient's product with 1 or 0, so a NaN gradient stays NaN as it does there.
    if constexpr (op == Op::relu) return _mm256_andnot_ps(_mm256_cmp_ps(v, zero, _CMP_LT_OQ), v);
    if constexpr (op == Op::relu_gradient) return _mm256_mul_ps(v, _mm256_and_ps(_mm256_cmp_ps(m, zero, _CMP_GT_OQ), one));
    return v;
  };
  // A row's tail: a whole vector read and written back with the row's part blended in, since
  // AMD's masked store is far slower than a load, a blend and a store. The floats past the row
  // (the next rows, padding or dropped positions) are rewritten with their own values, which is
  // safe only while the vector stays inside what this call covers on both sides; rows near the
  // end of that span (several of them when rows are shorter than a vector) take masked loads and
  // a masked store instead.
  const auto span_end = [channels, length](const std::vector<std::int64_t>& rows, std::int64_t stride) {
    std::int64_t end = 0;
    for (const std::int64_t row : rows) end = std::max(end, row + length);
    return (channels - 1) * stride + end;
  };
  const std::int64_t from_end = span_end(from_rows, from_stride), to_end = span_end(to_rows, to_stride);
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::size_t i = 0; i < from_rows.size(); ++i) {
      const std::int64_t from_at = c * from_stride + from_rows[i], to_at = c * to_stride + to_rows[i];
      const float *s = from + from_at, *m = op == Op::relu_gradient ? mask + from_at : s;
      float* d = to + to_at;
      for (std::int64_t j = 0; j < whole; j += 8)
        _mm256_storeu_ps(d + j, apply(_mm256_loadu_ps(s + j), _mm256_loadu_ps(m + j)));
      if (whole == length) continue;
      if (from_at + whole + 8 <= from_end && to_at + whole + 8 <= to_end) {
        const __m256 v = apply(_mm256_loadu_ps(s + whole), _mm256_loadu_ps(m + whole));
        _mm256_storeu_ps(d + whole, _mm256_blendv_ps(_mm256_loadu_ps(d + whole), v, _mm256_castsi256_ps(tail)));
      } else {
        _mm256_maskstore_ps(d + whole, tail,
                            apply(_mm256_maskload_ps(s + whole, tail), _mm256_maskload_ps(m + whole, tail)));
      }
    }
}

#endif

void copy_rows(const std::vector<std::int64_t>& from_rows, const float* from, std::int64_t from_stride,
               const std::vector<std::int64_t>& to_rows, float* to, std::int64_t to_stride, std::int64_t channels,
               std::int64_t length, Op op, const float* mask) {
#ifdef WEFT_GRID_COPY_AVX2
  if (vector_isa() != VectorIsa::portable) {
    const auto kernel = op == Op::relu            ? copy_rows_avx2<Op::relu>
                        : op == Op::relu_gradient ? copy_rows_avx2<Op::relu_gradient>
                                                  : copy_rows_avx2<Op::copy>;
    return kernel(from_rows, from, from_stride, to_rows, to, to_stride, channels, length, mask);
  }
#endif
  copy_rows_portable(from_rows, from, from_stride, to_rows, to, to_stride, channels, length, op, mask);
}

}  // namespace

void grid_to_dense(const RowMap& map, const float* grid, std::int64_t grid_stride, std::int64_t channels, float* dense,
                   std::int64_t dense_stride, bool relu) {
  copy_rows(map.grid, grid, grid_stride, map.dense, dense, dense_stride, channels, map.length,
            relu ? Op::relu : Op::copy, nullptr);
}

void dense_to_grid(const RowMap& map, const float* dense, std::int64_t dense_stride, std::int64_t channels, float* grid,
                   std::int64_t grid_stride, const float* relu_output) {
  copy_rows(map.dense, dense, dense_stride, map.grid, grid, grid_stride, channels, map.length,
            relu_output ? Op::relu_gradient : Op::copy, relu_output);
}

}  // namespace weft::builtin
