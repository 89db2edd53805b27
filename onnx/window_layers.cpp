// Convolution, transposed convolution and pooling as ONNX nodes. Where OpenCV 4.6 (the runtime
// the tests use) ignores an attribute or cannot run an op, the layer is written as other ops
// that compute the same values in any runtime: 1-d windows as 2-d ones over (C, L, 1), 3-d or
// dilated transposed convolution as a convolution, dilated max pooling as a gather by a grouped
// convolution, padded or ceil-mode average pooling with a constant divisor correction.
#include "window_layers.hpp"

#include <limits>

#include "layer_helpers.hpp"

namespace weft::onnx_export {
namespace {

// A weight (out, in, k) as (out, in, k, 1): the same values.
ConstView plane_weight(const ConstView& w) { return ConstView(w.data(), Shape{w.shape()[0], w.shape()[1], w.shape()[2], 1}); }

std::int64_t groups_of(const LayerSlot& slot) { return slot.config.value("groups", std::int64_t{1}); }

// Inserts stride − 1 zeros between neighbours along the last two axes of x (N, planes, H, W): a
// ConvTranspose with a 1 × 1 kernel of ones per plane.
std::string insert_zeros(const OnnxLayerArgs& a, const std::string& x, std::int64_t planes, const Ints& strides) {
  const std::vector<float> ones(static_cast<std::size_t>(planes), 1.0f);
  const auto kernel = a.graph.constant(a.name + "/zero_insertion", ConstView(ones.data(), Shape{planes, 1, 1, 1}));
  return a.graph.node("ConvTranspose", {x, kernel}, {{"kernel_shape", Ints{1, 1}}, {"strides", strides}, {"group", planes}});
}

// Transposed convolution (2-d or 3-d) as the convolution it equals: the input with stride − 1
// zeros inserted between elements along each axis, convolved with the kernel flipped and its
// in/out axes swapped per group, padded by dilation·(kernel − 1) − padding on each side plus
// output_padding at the end. OpenCV 4.6 cannot run 3-d ConvTranspose and ignores dilation.
std::string transpose_as_conv(const LayerSlot& slot, const OnnxLayerArgs& a, const std::string& input, const Window& w,
                              const Ints& output_padding, const ConstView& weight) {
  auto& g = a.graph;
  const std::int64_t c = w.channels, groups = groups_of(slot);
  Ints pads_begin, pads_end, spread;
  for (std::size_t d = 0; d < w.dims(); ++d) {
    const std::int64_t pad = w.dilations[d] * (w.kernel[d] - 1) - w.pads_begin[d];
    if (pad < 0) no_equivalent(slot, "padding larger than dilation·(kernel − 1)");
    pads_begin.push_back(pad);
    pads_end.push_back(pad + output_padding[d]);
    spread.push_back((w.in[d] - 1) * w.strides[d] + 1);
  }
  std::string x = input;
  if (w.dims() == 3) {
    const Ints& in = w.in;
    if (w.strides[0] > 1) {  // depth, with height and width as one axis
      x = reshape(a, x, Shape{c, in[0], in[1] * in[2]});
      x = reshape(a, insert_zeros(a, x, c, {w.strides[0], 1}), Shape{c, spread[0], in[1], in[2]});
    }
    if (w.strides[1] > 1 || w.strides[2] > 1) {  // height and width of every depth slice
      x = reshape(a, x, Shape{c * spread[0], in[1], in[2]});
      x = reshape(a, insert_zeros(a, x, c * spread[0], {w.strides[1], w.strides[2]}), Shape{c, spread[0], spread[1], spread[2]});
    }
  } else if (w.strides[0] > 1 || w.strides[1] > 1) {
    x = insert_zeros(a, x, c, {w.strides[0], w.strides[1]});
  }
  // weight (C, F/groups, k...) → (F, C/groups, k... flipped on every axis)
  const std::int64_t per_in = c / groups, per_out = weight.shape()[1], taps = w.kernel_count();
  std::vector<float> flipped(static_cast<std::size_t>(weight.shape().numel()));
  for (std::int64_t grp = 0; grp < groups; ++grp)
    for (std::int64_t i = 0; i < per_in; ++i)
      for (std::int64_t f = 0; f < per_out; ++f)
        for (std::int64_t t = 0; t < taps; ++t)
          flipped[static_cast<std::size_t>(((grp * per_out + f) * per_in + i) * taps + (taps - 1 - t))] =
              weight.data()[((grp * per_in + i) * per_out + f) * taps + t];
  Ints flipped_shape{groups * per_out, per_in};
  flipped_shape.insert(flipped_shape.end(), w.kernel.begin(), w.kernel.end());
  std::vector<std::string> inputs{x, g.constant(a.name + "/weight", ConstView(flipped.data(), Shape(flipped_shape)))};
  if (a.params.size() > 1) inputs.push_back(g.constant(a.name + "/bias", a.params[1]));
  Ints pads = pads_begin;
  pads.insert(pads.end(), pads_end.begin(), pads_end.end());
  return g.node("Conv", inputs, {{"kernel_shape", w.kernel}, {"dilations", w.dilations}, {"pads", pads}, {"group", groups}});
}

// Max pooling with dilation, which OpenCV 4.6 ignores: a grouped convolution with one-hot kernels
// (with the window's dilation and stride) copies tap t of every window into channel c·K + t;
// taps outside the input get −∞ added (a constant mask: the window positions are fixed), and a
// MaxPool over the K taps takes the largest. A window wholly in padding gives −∞, as weft does.
std::string dilated_max_pool(const LayerSlot& slot, const OnnxLayerArgs& a, const std::string& x, Window w) {
  (void)slot;
  auto& g = a.graph;
  const std::int64_t c = w.channels, k = w.kernel_count(), p = w.out_count();
  for (std::size_t d = 0; d < w.dims(); ++d)  // enough padding at the end for exactly `out` windows
    w.pads_end[d] = std::max<std::int64_t>((w.out[d] - 1) * w.strides[d] + w.dilations[d] * (w.kernel[d] - 1) + 1 -
                                               w.in[d] - w.pads_begin[d], 0);
  std::vector<float> one_hot(static_cast<std::size_t>(c * k * k), 0.0f);
  for (std::int64_t ch = 0; ch < c; ++ch)
    for (std::int64_t t = 0; t < k; ++t) one_hot[static_cast<std::size_t>((ch * k + t) * k + t)] = 1.0f;
  Ints kernel_shape{c * k, 1};
  kernel_shape.insert(kernel_shape.end(), w.kernel.begin(), w.kernel.end());
  const auto taps = g.node("Conv", {x, g.constant(a.name + "/taps", ConstView(one_hot.data(), Shape(kernel_shape)))},
                           {{"kernel_shape", w.kernel}, {"strides", w.strides}, {"dilations", w.dilations},
                            {"pads", w.pads()}, {"group", c}});
  // mask (C, K, P): 0 where tap t of window o reads the input, −∞ where it reads padding
  std::vector<float> mask(static_cast<std::size_t>(c * k * p), 0.0f);
  for (std::int64_t t = 0; t < k; ++t)
    for (std::int64_t o = 0; o < p; ++o) {
      bool inside = true;
      std::int64_t tt = t, oo = o;
      for (std::size_t d = w.dims(); d-- > 0;) {
        const std::int64_t td = tt % w.kernel[d], od = oo % w.out[d];
        tt /= w.kernel[d], oo /= w.out[d];
        const std::int64_t i = od * w.strides[d] - w.pads_begin[d] + td * w.dilations[d];
        inside = inside && i >= 0 && i < w.in[d];
      }
      if (!inside)
        for (std::int64_t ch = 0; ch < c; ++ch)
          mask[static_cast<std::size_t>((ch * k + t) * p + o)] = -std::numeric_limits<float>::infinity();
    }
  const auto masked = g.node("Add", {reshape(a, taps, Shape{c, k, p}), g.constant(a.name + "/mask", ConstView(mask.data(), Shape{c, k, p}))});
  const auto largest = g.node("MaxPool", {masked}, {{"kernel_shape", Ints{k, 1}}});
  return reshape(a, largest, w.output_shape(c));
}

// Average pooling over padding. weft (as PyTorch) divides by the window's slots on the input and
// its padding (count_include_pad, the default) or on the input only, and with ceil_mode a window
// may reach past the padding, whose slots never count. OpenCV 4.6 always divides by the slots on
// the input, whatever count_include_pad says. So the node asks for exactly that
// (count_include_pad = 0, the end padding extended to give exactly weft's windows, ceil_mode
// off), which every runtime computes alike, and a constant factor per position turns that
// divisor into weft's where they differ.
std::string padded_avg_pool(const LayerSlot& slot, const OnnxLayerArgs& a, const std::string& x, Window w) {
  auto& g = a.graph;
  const bool include_pad = slot.config.value("count_include_pad", true);
  std::vector<std::vector<double>> ratio(w.dims());  // per axis: real slots / weft's divisor
  bool corrected = false;
  for (std::size_t d = 0; d < w.dims(); ++d) {
    w.pads_end[d] = std::max<std::int64_t>((w.out[d] - 1) * w.strides[d] + w.kernel[d] - w.in[d] - w.pads_begin[d], 0);
    for (std::int64_t o = 0; o < w.out[d]; ++o) {
      const std::int64_t start = o * w.strides[d] - w.pads_begin[d], stop = start + w.kernel[d];
      const std::int64_t real = std::min(stop, w.in[d]) - std::max<std::int64_t>(start, 0);
      const std::int64_t padded = std::min(stop, w.in[d] + w.pads_begin[d]) - std::max(start, -w.pads_begin[d]);
      const std::int64_t divisor = include_pad ? padded : real;
      ratio[d].push_back(static_cast<double>(std::max<std::int64_t>(real, 1)) / static_cast<double>(std::max<std::int64_t>(divisor, 1)));
      corrected = corrected || real != divisor;
    }
  }
  const auto y = g.node("AveragePool", {x},
                        {{"kernel_shape", w.kernel}, {"strides", w.strides}, {"pads", w.pads()}, {"count_include_pad", std::int64_t{0}}});
  if (!corrected) return y;
  // (C, out...), the same for every channel: OpenCV 4.6 broadcasts a constant over the batch axis only.
  const std::int64_t positions = w.out_count();
  std::vector<float> factor(static_cast<std::size_t>(w.channels * positions));
  for (std::int64_t o = 0; o < positions; ++o) {
    double f = 1;
    std::int64_t oo = o;
    for (std::size_t d = w.dims(); d-- > 0;) f *= ratio[d][static_cast<std::size_t>(oo % w.out[d])], oo /= w.out[d];
    for (std::int64_t ch = 0; ch < w.channels; ++ch) factor[static_cast<std::size_t>(ch * positions + o)] = static_cast<float>(f);
  }
  return g.node("Mul", {y, g.constant(a.name + "/divisor_correction", ConstView(factor.data(), w.output_shape(w.channels)))});
}

}  // namespace

std::string conv_to_onnx(const LayerSlot& slot, const OnnxLayerArgs& a) {
  Window w = window(slot, true, false);
  const bool one_d = w.dims() == 1;
  if (one_d) widen_to_plane(w);
  std::vector<std::string> inputs{one_d ? reshape(a, a.input, w.input_shape()) : a.input,
                                  a.graph.constant(a.name + "/weight", one_d ? plane_weight(a.params[0]) : a.params[0])};
  if (a.params.size() > 1) inputs.push_back(a.graph.constant(a.name + "/bias", a.params[1]));
  auto y = a.graph.node("Conv", inputs,
                        {{"kernel_shape", w.kernel}, {"strides", w.strides}, {"dilations", w.dilations},
                         {"pads", w.pads()}, {"group", groups_of(slot)}});
  if (one_d) y = reshape(a, y, a.output_shape);
  return fused_activation(slot, a, y);
}

std::string conv_transpose_to_onnx(const LayerSlot& slot, const OnnxLayerArgs& a) {
  Window w = window(slot, false, false);
  Ints output_padding = Config(slot.name, slot.config).integers("output_padding", w.dims(), 0);
  const bool one_d = w.dims() == 1;
  if (one_d) widen_to_plane(w), output_padding.push_back(0);
  const std::string x = one_d ? reshape(a, a.input, w.input_shape()) : a.input;
  const ConstView weight = one_d ? plane_weight(a.params[0]) : a.params[0];
  bool dilated = false;
  for (auto d : w.dilations) dilated = dilated || d > 1;
  std::string y;
  if (w.dims() == 3 || dilated) {
    y = transpose_as_conv(slot, a, x, w, output_padding, weight);
  } else {
    std::vector<std::string> inputs{x, a.graph.constant(a.name + "/weight", weight)};
    if (a.params.size() > 1) inputs.push_back(a.graph.constant(a.name + "/bias", a.params[1]));
    y = a.graph.node("ConvTranspose", inputs,
                     {{"kernel_shape", w.kernel}, {"strides", w.strides}, {"dilations", w.dilations}, {"pads", w.pads()},
                      {"output_padding", output_padding}, {"group", groups_of(slot)}});
  }
  return one_d ? reshape(a, y, a.output_shape) : y;
}

std::string pool_to_onnx(const LayerSlot& slot, const OnnxLayerArgs& a, bool max) {
  Window w = window(slot, false, true);
  const bool one_d = w.dims() == 1;
  if (one_d) widen_to_plane(w);
  const std::string x = one_d ? reshape(a, a.input, w.input_shape()) : a.input;
  const bool ceil_mode = slot.config.value("ceil_mode", false);
  bool dilated = false, padded = false;
  for (auto d : w.dilations) dilated = dilated || d > 1;
  for (auto p : w.pads_begin) padded = padded || p > 0;
  std::string y;
  if (max && dilated) {
    y = dilated_max_pool(slot, a, x, w);
  } else if (!max && (ceil_mode || padded)) {
    y = padded_avg_pool(slot, a, x, w);
  } else {
    std::vector<OnnxAttribute> attrs{{"kernel_shape", w.kernel}, {"strides", w.strides}, {"pads", w.pads()},
                                     {"ceil_mode", std::int64_t{ceil_mode}}};
    if (!max) attrs.push_back({"count_include_pad", std::int64_t{slot.config.value("count_include_pad", true)}});
    y = a.graph.node(max ? "MaxPool" : "AveragePool", {x}, attrs);
  }
  return one_d ? reshape(a, y, a.output_shape) : y;
}

// Over (C, spatial...) viewed as (C, S, 1) planes: OpenCV 4.6 pools globally over 2-d planes only.
std::string global_pool_to_onnx(const OnnxLayerArgs& a, const std::string& op) {
  const Shape plane{a.input_shape[0], a.input_shape.numel() / a.input_shape[0], 1};
  return a.graph.node("Flatten", {a.graph.node(op, {reshape(a, a.input, plane)})}, {{"axis", std::int64_t{1}}});
}

}  // namespace weft::onnx_export
