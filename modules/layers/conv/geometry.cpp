#include "layers/conv/geometry.hpp"

#include "weft/error.hpp"

namespace weft::builtin {

std::int64_t WindowGeometry::product(const Extents& e) const {
  std::int64_t p = 1;
  for (std::size_t d = 0; d < dims; ++d) p *= e[d];
  return p;
}

bool WindowGeometry::is_pointwise() const {
  for (std::size_t d = 0; d < dims; ++d)
    if (kernel[d] != 1 || stride[d] != 1 || pad_before[d] != 0 || in[d] != out[d]) return false;
  return true;
}

namespace {

WindowGeometry::Extents to_extents(const std::vector<std::int64_t>& v) {
  WindowGeometry::Extents e{};
  for (std::size_t d = 0; d < v.size(); ++d) e[d] = v[d];
  return e;
}

// Windows along one axis: PyTorch's pooling_output_shape with its floor division (rounding toward
// −∞, so a kernel larger than the padded input gives 0 or less).
std::int64_t output_extent(std::int64_t in, std::int64_t padded, std::int64_t span, std::int64_t stride,
                           std::int64_t pad_before, bool ceil_mode) {
  const std::int64_t room = padded - span + (ceil_mode ? stride - 1 : 0);
  std::int64_t out = (room >= 0 ? room / stride : -((-room + stride - 1) / stride)) + 1;
  // ceil_mode: the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_before) --out;
  return out;
}

}  // namespace

WindowSettings read_window_settings(const Config& c, std::size_t dims, bool allow_same, bool stride_defaults_to_kernel) {
  WindowSettings s;
  s.dims = dims;
  s.kernel = to_extents(c.integers("kernel", dims, 1));
  const bool stride_is_kernel = stride_defaults_to_kernel && c.raw("stride") == Json("kernel");
  s.stride = stride_is_kernel ? s.kernel : to_extents(c.integers("stride", dims, 1));
  s.dilation = c.has("dilation") ? to_extents(c.integers("dilation", dims, 1)) : WindowGeometry::Extents{1, 1, 1, 1};
  s.ceil_mode = c.has("ceil_mode") && c.boolean("ceil_mode");
  const Json& padding = c.raw("padding");
  if (padding.is_string()) {
    const std::string mode = c.choice("padding", {"same", "valid"});
    if (mode == "same" && !allow_same) c.fail("padding", "an integer >= 0 or a list of such integers (no \"same\" here)");
    s.padding_mode = mode == "same" ? WindowSettings::Padding::same : WindowSettings::Padding::valid;
  } else {
    const std::string expected = std::string("an integer >= 0, a list of ") + std::to_string(dims) + " such integers" +
                                 (allow_same ? ", \"same\" or \"valid\"" : "");
    if (!padding.is_number_integer() && !padding.is_array()) c.fail("padding", expected);
    s.padding = to_extents(c.integers("padding", dims, 0));
  }
  return s;
}

std::size_t read_dims(const Config& c, std::size_t fixed, std::size_t max_dims) {
  if (fixed) return fixed;
  return static_cast<std::size_t>(c.integer("dims", 1, static_cast<std::int64_t>(max_dims)));
}

void require_channels_first(const Shape& input, std::size_t dims, const std::string& what) {
  if (input.rank() != dims + 1) {
    std::string layout = "(channels";
    for (std::size_t d = 0; d < dims; ++d) layout += ", d" + std::to_string(d + 1);
    throw ShapeError(what + " needs a per-sample input " + layout + ") of rank " + std::to_string(dims + 1) +
                     ", got rank " + std::to_string(input.rank()) +
                     (input.rank() == 1 ? " (a flat input: give the model \"input\" as [channels, ...])" : ""));
  }
}

std::string extents_str(const WindowGeometry::Extents& e, std::size_t dims) {
  std::string s = "(";
  for (std::size_t d = 0; d < dims; ++d) s += (d ? ", " : "") + std::to_string(e[d]);
  return s + (dims == 1 ? ",)" : ")");
}

Shape channels_and(std::int64_t leading, const WindowGeometry::Extents& e, std::size_t dims) {
  std::array<std::int64_t, max_spatial_dims + 1> v{};
  v[0] = leading;
  for (std::size_t d = 0; d < dims; ++d) v[d + 1] = e[d];
  return Shape(std::span<const std::int64_t>(v.data(), dims + 1));
}

Shape kernel_shape(std::int64_t rows, std::int64_t cols, const WindowGeometry::Extents& kernel, std::size_t dims) {
  std::array<std::int64_t, max_spatial_dims + 2> v{};
  v[0] = rows;
  v[1] = cols;
  for (std::size_t d = 0; d < dims; ++d) v[d + 2] = kernel[d];
  return Shape(std::span<const std::int64_t>(v.data(), dims + 2));
}

WindowGeometry slide(const WindowSettings& s, const Shape& input, const std::string& what) {
  require_channels_first(input, s.dims, what);
  WindowGeometry g;
  g.dims = s.dims;
  g.kernel = s.kernel;
  g.stride = s.stride;
  g.dilation = s.dilation;
  for (std::size_t d = 0; d < s.dims; ++d) {
    g.in[d] = input[d + 1];
    const std::int64_t span = s.dilation[d] * (s.kernel[d] - 1) + 1;
    std::int64_t total_pad = 0;
    switch (s.padding_mode) {
      case WindowSettings::Padding::explicit_: total_pad = 2 * s.padding[d]; break;
      case WindowSettings::Padding::valid: break;
      case WindowSettings::Padding::same: {
        const std::int64_t out = (g.in[d] + s.stride[d] - 1) / s.stride[d];
        total_pad = std::max<std::int64_t>((out - 1) * s.stride[d] + span - g.in[d], 0);
        break;
      }
    }
    g.pad_before[d] = total_pad / 2;
    const std::int64_t padded = g.in[d] + total_pad;
    g.out[d] = output_extent(g.in[d], padded, span, s.stride[d], g.pad_before[d], s.ceil_mode);
    if (g.out[d] < 1) {
      WindowGeometry::Extents spans{};
      for (std::size_t e = 0; e < s.dims; ++e) spans[e] = s.dilation[e] * (s.kernel[e] - 1) + 1;
      throw ShapeError(what + " needs each spatial extent, padding included" +
                       (s.ceil_mode ? " and plus stride − 1 (ceil_mode)" : "") +
                       ", to be at least the (dilated) kernel " + extents_str(spans, s.dims) + ", but spatial axis " +
                       std::to_string(d + 1) + " is " + std::to_string(g.in[d]) + " + " + std::to_string(total_pad) +
                       " padding = " + std::to_string(padded));
    }
  }
  return g;
}

}  // namespace weft::builtin
