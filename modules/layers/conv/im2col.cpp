// Both directions walk the same rows and lines: a line is the stretch of one row that covers
// the last spatial axis at fixed outer output positions, so the inner loop is a strided copy
// whose in-range part [lo, hi) is computed once per row rather than tested per element.
#include "layers/conv/im2col.hpp"

#include <algorithm>

namespace weft::builtin {
namespace {

// For offset `offset` = k·dilation − pad_before on an axis of extent `in`: the output positions
// o in [0, out) with 0 <= o·stride + offset < in are [lo, hi).
struct Range {
  std::int64_t lo, hi;
};
Range in_range(std::int64_t offset, std::int64_t stride, std::int64_t in, std::int64_t out) {
  const auto ceil_div = [](std::int64_t a, std::int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  const std::int64_t lo = std::clamp<std::int64_t>(ceil_div(-offset, stride), 0, out);
  const std::int64_t hi = std::clamp<std::int64_t>(ceil_div(in - offset, stride), lo, out);
  return {lo, hi};
}

// Calls line(at, inside, base, r) for every line: `at` is where the line starts in the column
// matrix; when `inside`, output position o of the line reads input element base + o·stride
// (within the volume for o in r = [lo, hi) only); otherwise the line lies wholly in padding.
template <class Line>
void for_each_line(std::int64_t channels, const WindowGeometry& g, std::int64_t ld, Line line) {
  const std::size_t last = g.dims - 1;
  const std::int64_t line_length = g.out[last];
  const std::int64_t lines_per_row = g.out_count() / line_length, kernel_count = g.kernel_count();
  WindowGeometry::Extents in_stride{};  // element stride of each input axis within one channel
  in_stride[last] = 1;
  for (std::size_t d = last; d-- > 0;) in_stride[d] = in_stride[d + 1] * g.in[d + 1];

  std::int64_t row = 0;
  for (std::int64_t c = 0; c < channels; ++c) {
    const std::int64_t channel_base = c * g.in_count();
    WindowGeometry::Extents k{};  // kernel offset of this row, an odometer over g.kernel
    for (std::int64_t kr = 0; kr < kernel_count; ++kr, ++row) {
      WindowGeometry::Extents offset{};
      for (std::size_t d = 0; d < g.dims; ++d) offset[d] = k[d] * g.dilation[d] - g.pad_before[d];
      const Range r = in_range(offset[last], g.stride[last], g.in[last], line_length);
      WindowGeometry::Extents o{};  // outer output position, an odometer over g.out[0..last)
      for (std::int64_t q = 0; q < lines_per_row; ++q) {
        bool inside = true;
        std::int64_t base = channel_base + offset[last];
        for (std::size_t d = 0; d < last; ++d) {
          const std::int64_t i = o[d] * g.stride[d] + offset[d];
          inside = inside && i >= 0 && i < g.in[d];
          base += i * in_stride[d];
        }
        line(row * ld + q * line_length, inside, base, r);
        for (std::size_t d = last; d-- > 0;) {
          if (++o[d] < g.out[d]) break;
          o[d] = 0;
        }
      }
      for (std::size_t d = g.dims; d-- > 0;) {
        if (++k[d] < g.kernel[d]) break;
        k[d] = 0;
      }
    }
  }
}

}  // namespace

void vol2col(const float* vol, std::int64_t channels, const WindowGeometry& g, float* col, std::int64_t ld) {
  const std::int64_t length = g.out[g.dims - 1], stride = g.stride[g.dims - 1];
  for_each_line(channels, g, ld, [&](std::int64_t at, bool inside, std::int64_t base, Range r) {
    float* dst = col + at;
    if (!inside) {
      std::fill_n(dst, length, 0.0f);
      return;
    }
    std::fill(dst, dst + r.lo, 0.0f);
    std::fill(dst + r.hi, dst + length, 0.0f);
    if (stride == 1) {
      std::copy(vol + base + r.lo, vol + base + r.hi, dst + r.lo);
    } else {
      for (std::int64_t o = r.lo; o < r.hi; ++o) dst[o] = vol[base + o * stride];
    }
  });
}

void col2vol(const float* col, std::int64_t ld, std::int64_t channels, const WindowGeometry& g, float* vol) {
  const std::int64_t stride = g.stride[g.dims - 1];
  for_each_line(channels, g, ld, [&](std::int64_t at, bool inside, std::int64_t base, Range r) {
    if (!inside) return;
    const float* src = col + at;
    for (std::int64_t o = r.lo; o < r.hi; ++o) vol[base + o * stride] += src[o];
  });
}

}  // namespace weft::builtin
