#include "layer_helpers.hpp"

#include <cctype>

#include "weft/error.hpp"

namespace weft::onnx_export {

std::string scalar(const OnnxLayerArgs& a, const std::string& name, float value) {
  return a.graph.constant(a.name + "/" + name, ConstView(&value, Shape{}));
}

std::string reshape(const OnnxLayerArgs& a, const std::string& x, const Shape& per_sample) {
  Ints shape{-1};
  for (std::size_t d = 0; d < per_sample.rank(); ++d) shape.push_back(per_sample[d]);
  return a.graph.node("Reshape", {x, a.graph.int_constant(a.name + "/shape", shape)});
}

void no_equivalent(const LayerSlot& slot, const std::string& why) {
  throw Error("layer '" + slot.name + "' (" + slot.type + ") has no ONNX equivalent: " + why);
}

std::string fused_activation(const LayerSlot& slot, const OnnxLayerArgs& a, const std::string& y) {
  const std::string act = slot.config.value("activation", std::string("none"));
  if (act == "none") return y;
  if (act == "relu") return a.graph.node("Relu", {y});
  no_equivalent(slot, "activation '" + act + "'");
}

Ints Window::pads() const {
  Ints p = pads_begin;
  p.insert(p.end(), pads_end.begin(), pads_end.end());
  return p;
}

std::int64_t Window::kernel_count() const {
  std::int64_t n = 1;
  for (auto k : kernel) n *= k;
  return n;
}

std::int64_t Window::out_count() const {
  std::int64_t n = 1;
  for (auto o : out) n *= o;
  return n;
}

Shape Window::input_shape() const {
  Ints s{channels};
  s.insert(s.end(), in.begin(), in.end());
  return Shape(s);
}

Shape Window::output_shape(std::int64_t channels_out) const {
  Ints s{channels_out};
  s.insert(s.end(), out.begin(), out.end());
  return Shape(s);
}

namespace {

// Spatial axes of a windowed layer: from the type's suffix ("conv2d", "max_pool3d") or "dims".
std::size_t spatial_dims(const LayerSlot& slot) {
  const std::string& t = slot.type;
  if (t.size() > 2 && t.ends_with("d") && std::isdigit(static_cast<unsigned char>(t[t.size() - 2])))
    return static_cast<std::size_t>(t[t.size() - 2] - '0');
  return slot.config.value("dims", std::size_t{0});
}

}  // namespace

Window window(const LayerSlot& slot, bool allow_same, bool stride_defaults_to_kernel) {
  const std::size_t dims = spatial_dims(slot);
  if (dims < 1 || dims > 3) no_equivalent(slot, std::to_string(dims) + " spatial axes (ONNX has 1 to 3)");
  const Config c(slot.name, slot.config);
  const auto s = builtin::read_window_settings(c, dims, allow_same, stride_defaults_to_kernel);
  Window w;
  w.channels = slot.input[0];
  // Transposed convolutions slide over their output, not their input: only the settings count.
  const bool slides = slot.type.find("transpose") == std::string::npos;
  const auto g = slides ? builtin::slide(s, slot.input, slot.type) : builtin::WindowGeometry{};
  for (std::size_t d = 0; d < dims; ++d) {
    w.kernel.push_back(s.kernel[d]);
    w.strides.push_back(s.stride[d]);
    w.dilations.push_back(s.dilation[d]);
    w.in.push_back(slot.input[d + 1]);
    w.out.push_back(slot.output[d + 1]);
    const std::int64_t begin = slides ? g.pad_before[d] : s.padding[d];
    std::int64_t end = s.padding[d];
    if (s.padding_mode == builtin::WindowSettings::Padding::valid) end = 0;
    if (s.padding_mode == builtin::WindowSettings::Padding::same) {
      const std::int64_t span = s.dilation[d] * (s.kernel[d] - 1) + 1;
      end = std::max<std::int64_t>((g.out[d] - 1) * s.stride[d] + span - g.in[d], 0) - begin;
    }
    w.pads_begin.push_back(begin);
    w.pads_end.push_back(end);
  }
  return w;
}

void widen_to_plane(Window& w) {
  for (auto* v : {&w.kernel, &w.strides, &w.dilations, &w.in, &w.out}) v->push_back(1);
  w.pads_begin.push_back(0);
  w.pads_end.push_back(0);
}

}  // namespace weft::onnx_export
