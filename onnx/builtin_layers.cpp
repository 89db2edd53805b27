// Each built-in layer as ONNX nodes at opset 13. Ops that OpenCV 4.6's importer lacks are
// written out in ops it has (layer_norm, gelu, silu, softplus), so that the exported models run
// there as well as in runtimes with the full op set.
#include "builtin_layers.hpp"

#include <cmath>
#include <functional>
#include <map>

#include "layers/conv/geometry.hpp"
#include "weft/error.hpp"

namespace weft::onnx_export {
namespace {

using Ints = std::vector<std::int64_t>;

std::string scalar(const OnnxLayerArgs& a, const std::string& name, float value) {
  return a.graph.constant(a.name + "/" + name, ConstView(&value, Shape{}));
}

// Spatial axes of a windowed layer: from the type's suffix ("conv2d", "max_pool3d") or "dims".
std::size_t spatial_dims(const LayerSlot& slot) {
  const std::string& t = slot.type;
  if (t.size() > 2 && t.ends_with("d") && std::isdigit(static_cast<unsigned char>(t[t.size() - 2])))
    return static_cast<std::size_t>(t[t.size() - 2] - '0');
  return slot.config.value("dims", std::size_t{0});
}

[[noreturn]] void no_equivalent(const LayerSlot& slot, const std::string& why) {
  throw Error("layer '" + slot.name + "' (" + slot.type + ") has no ONNX equivalent: " + why);
}

// OpenCV 4.6 runs 1-d convolution and pooling unreliably, so a 1-d window layer is exported as
// the 2-d one over (C, L, 1): reshape in, the 2-d node with a trailing window extent of 1, and
// reshape out. Other runtimes compute the same values.
std::string to_plane(const OnnxLayerArgs& a, const std::string& x, const Shape& per_sample) {
  Ints shape{-1};
  for (std::size_t d = 0; d < per_sample.rank(); ++d) shape.push_back(per_sample[d]);
  shape.push_back(1);
  return a.graph.node("Reshape", {x, a.graph.int_constant(a.name + "/as_2d", shape)});
}

std::string from_plane(const OnnxLayerArgs& a, const std::string& x) {
  Ints shape{-1};
  for (std::size_t d = 0; d < a.output_shape.rank(); ++d) shape.push_back(a.output_shape[d]);
  return a.graph.node("Reshape", {x, a.graph.int_constant(a.name + "/as_1d", shape)});
}

// A weight (out, in, k) as (out, in, k, 1): the same values.
ConstView plane_weight(const ConstView& w) { return ConstView(w.data(), Shape{w.shape()[0], w.shape()[1], w.shape()[2], 1}); }

// Window attributes of a 1-d layer made 2-d: each list gets the trailing axis's neutral value.
void widen(Ints& v, std::int64_t neutral) { v.push_back(neutral); }
void widen_pads(Ints& pads) { pads = {pads[0], 0, pads[1], 0}; }

struct Window {
  builtin::WindowGeometry g;
  Ints kernel, strides, dilations, pads;  // pads: ONNX's (begin..., end...)
};

// The window of a conv or pooling layer as ONNX attributes; "same" padding may be uneven (the
// extra at the end), which ONNX's explicit pads express.
Window window(const LayerSlot& slot, bool stride_defaults_to_kernel) {
  const std::size_t dims = spatial_dims(slot);
  if (dims < 1 || dims > 3) no_equivalent(slot, std::to_string(dims) + " spatial axes (ONNX has 1 to 3)");
  const Config c(slot.name, slot.config);
  const auto s = builtin::read_window_settings(c, dims, slot.type.find("conv") == 0 && slot.type.find("transpose") == std::string::npos,
                                               stride_defaults_to_kernel);
  Window w;
  w.g = builtin::slide(s, slot.input, slot.type);
  Ints after;
  for (std::size_t d = 0; d < dims; ++d) {
    w.kernel.push_back(s.kernel[d]);
    w.strides.push_back(s.stride[d]);
    w.dilations.push_back(s.dilation[d]);
    w.pads.push_back(w.g.pad_before[d]);
    std::int64_t end = s.padding[d];
    if (s.padding_mode == builtin::WindowSettings::Padding::valid) end = 0;
    if (s.padding_mode == builtin::WindowSettings::Padding::same) {
      const std::int64_t span = s.dilation[d] * (s.kernel[d] - 1) + 1;
      end = std::max<std::int64_t>((w.g.out[d] - 1) * s.stride[d] + span - w.g.in[d], 0) - w.g.pad_before[d];
    }
    after.push_back(end);
  }
  w.pads.insert(w.pads.end(), after.begin(), after.end());
  return w;
}

std::string fused_activation(const LayerSlot& slot, const OnnxLayerArgs& a, const std::string& y) {
  const std::string act = slot.config.value("activation", std::string("none"));
  if (act == "none") return y;
  if (act == "relu") return a.graph.node("Relu", {y});
  no_equivalent(slot, "activation '" + act + "'");
}

std::string dense(const LayerSlot& slot, const OnnxLayerArgs& a) {
  const auto units = a.output_shape[0];
  std::string bias;
  std::vector<float> zeros;
  if (a.params.size() > 1) {
    bias = a.graph.constant(a.name + "/bias", a.params[1]);
  } else {
    zeros.assign(static_cast<std::size_t>(units), 0.0f);
    bias = a.graph.constant(a.name + "/bias", ConstView(zeros.data(), Shape{units}));
  }
  const auto y = a.graph.node("Gemm", {a.input, a.graph.constant(a.name + "/weight", a.params[0]), bias},
                              {{"transB", std::int64_t{1}}});
  return fused_activation(slot, a, y);
}

std::string conv(const LayerSlot& slot, const OnnxLayerArgs& a) {
  Window w = window(slot, false);
  const bool one_d = w.kernel.size() == 1;
  if (one_d) {
    widen(w.kernel, 1), widen(w.strides, 1), widen(w.dilations, 1), widen_pads(w.pads);
  }
  std::vector<std::string> inputs{one_d ? to_plane(a, a.input, a.input_shape) : a.input,
                                  a.graph.constant(a.name + "/weight", one_d ? plane_weight(a.params[0]) : a.params[0])};
  if (a.params.size() > 1) inputs.push_back(a.graph.constant(a.name + "/bias", a.params[1]));
  auto y = a.graph.node("Conv", inputs,
                        {{"kernel_shape", w.kernel}, {"strides", w.strides}, {"dilations", w.dilations},
                         {"pads", w.pads}, {"group", slot.config.value("groups", std::int64_t{1})}});
  if (one_d) y = from_plane(a, y);
  return fused_activation(slot, a, y);
}

// 3-d transposed convolution, which OpenCV 4.6 cannot run, as the convolution it equals: the
// input with stride − 1 zeros inserted between elements along each axis (a 2-d ConvTranspose
// with a 1 × 1 kernel of ones per channel does that, first along depth, then height and width),
// convolved with the kernel flipped and its in/out axes swapped per group, padded by
// dilation·(kernel − 1) − padding (plus output_padding at the end).
std::string conv_transpose3d_as_conv(const LayerSlot& slot, const OnnxLayerArgs& a, const builtin::WindowSettings& s,
                                     const std::vector<std::int64_t>& output_padding) {
  auto& g = a.graph;
  const Shape& in = a.input_shape;  // (C, D, H, W)
  const std::int64_t channels = in[0], groups = slot.config.value("groups", std::int64_t{1});
  Ints pads_begin, pads_end;
  for (std::size_t d = 0; d < 3; ++d) {
    const std::int64_t pad = s.dilation[d] * (s.kernel[d] - 1) - s.padding[d];
    if (pad < 0) no_equivalent(slot, "padding larger than dilation·(kernel − 1)");
    pads_begin.push_back(pad);
    pads_end.push_back(pad + output_padding[d]);
  }
  auto spread = [&](const std::string& x, std::int64_t planes, Ints strides, Shape to) {
    const std::vector<float> ones(static_cast<std::size_t>(planes), 1.0f);
    const auto kernel = g.constant(a.name + "/zero_insertion", ConstView(ones.data(), Shape{planes, 1, 1, 1}));
    const auto y = g.node("ConvTranspose", {x, kernel}, {{"kernel_shape", Ints{1, 1}}, {"strides", strides}, {"group", planes}});
    Ints shape{-1};
    for (std::size_t d = 0; d < to.rank(); ++d) shape.push_back(to[d]);
    return g.node("Reshape", {y, g.int_constant(a.name + "/shape", shape)});
  };
  const std::int64_t depth = (in[1] - 1) * s.stride[0] + 1, height = (in[2] - 1) * s.stride[1] + 1,
                     width = (in[3] - 1) * s.stride[2] + 1;
  std::string x = a.input;
  if (s.stride[0] > 1)
    x = spread(g.node("Reshape", {x, g.int_constant(a.name + "/shape", {-1, channels, in[1], in[2] * in[3]})}), channels,
               {s.stride[0], 1}, Shape{channels, depth, in[2], in[3]});
  if (s.stride[1] > 1 || s.stride[2] > 1)
    x = spread(g.node("Reshape", {x, g.int_constant(a.name + "/shape", {-1, channels * depth, in[2], in[3]})}),
               channels * depth, {s.stride[1], s.stride[2]}, Shape{channels, depth, height, width});
  // weight (C, F/g, k...) → (F, C/g, k... flipped)
  const ConstView w = a.params[0];
  const std::int64_t per_in = channels / groups, per_out = w.shape()[1], taps = s.kernel[0] * s.kernel[1] * s.kernel[2];
  std::vector<float> flipped(static_cast<std::size_t>(w.shape().numel()));
  for (std::int64_t grp = 0; grp < groups; ++grp)
    for (std::int64_t c = 0; c < per_in; ++c)
      for (std::int64_t f = 0; f < per_out; ++f)
        for (std::int64_t t = 0; t < taps; ++t)
          flipped[static_cast<std::size_t>(((grp * per_out + f) * per_in + c) * taps + (taps - 1 - t))] =
              w.data()[((grp * per_in + c) * per_out + f) * taps + t];
  std::vector<std::string> inputs{
      x, g.constant(a.name + "/weight", ConstView(flipped.data(), Shape{groups * per_out, per_in, s.kernel[0], s.kernel[1], s.kernel[2]}))};
  if (a.params.size() > 1) inputs.push_back(g.constant(a.name + "/bias", a.params[1]));
  Ints pads = pads_begin;
  pads.insert(pads.end(), pads_end.begin(), pads_end.end());
  return g.node("Conv", inputs,
                {{"kernel_shape", Ints{s.kernel[0], s.kernel[1], s.kernel[2]}},
                 {"dilations", Ints{s.dilation[0], s.dilation[1], s.dilation[2]}},
                 {"pads", pads},
                 {"group", groups}});
}

std::string conv_transpose(const LayerSlot& slot, const OnnxLayerArgs& a) {
  const std::size_t dims = spatial_dims(slot);
  if (dims < 1 || dims > 3) no_equivalent(slot, std::to_string(dims) + " spatial axes (ONNX has 1 to 3)");
  const Config c(slot.name, slot.config);
  const auto s = builtin::read_window_settings(c, dims, false, false);
  const auto output_padding = c.integers("output_padding", dims, 0);
  if (dims == 3) return conv_transpose3d_as_conv(slot, a, s, output_padding);
  Ints kernel, strides, dilations, pads, out_pad;
  for (std::size_t d = 0; d < dims; ++d) {
    kernel.push_back(s.kernel[d]);
    strides.push_back(s.stride[d]);
    dilations.push_back(s.dilation[d]);
    pads.push_back(s.padding[d]);
    out_pad.push_back(output_padding[d]);
  }
  const bool one_d = dims == 1;
  if (one_d) {
    widen(kernel, 1), widen(strides, 1), widen(dilations, 1), widen(pads, 0), widen(out_pad, 0);
  }
  pads.insert(pads.end(), pads.begin(), pads.end());
  std::vector<std::string> inputs{one_d ? to_plane(a, a.input, a.input_shape) : a.input,
                                  a.graph.constant(a.name + "/weight", one_d ? plane_weight(a.params[0]) : a.params[0])};
  if (a.params.size() > 1) inputs.push_back(a.graph.constant(a.name + "/bias", a.params[1]));
  const auto y = a.graph.node("ConvTranspose", inputs,
                              {{"kernel_shape", kernel}, {"strides", strides}, {"dilations", dilations}, {"pads", pads},
                               {"output_padding", out_pad}, {"group", slot.config.value("groups", std::int64_t{1})}});
  return one_d ? from_plane(a, y) : y;
}

std::string pool(const LayerSlot& slot, const OnnxLayerArgs& a, bool max) {
  Window w = window(slot, true);
  const bool one_d = w.kernel.size() == 1;
  if (one_d) {
    widen(w.kernel, 1), widen(w.strides, 1), widen(w.dilations, 1), widen_pads(w.pads);
  }
  const bool ceil_mode = slot.config.value("ceil_mode", false);
  std::vector<OnnxAttribute> attrs{{"kernel_shape", w.kernel}, {"strides", w.strides}, {"pads", w.pads},
                                   {"ceil_mode", std::int64_t{ceil_mode}}};
  if (max) attrs.push_back({"dilations", w.dilations});
  else attrs.push_back({"count_include_pad", std::int64_t{slot.config.value("count_include_pad", true)}});
  const auto x = one_d ? to_plane(a, a.input, a.input_shape) : a.input;
  const auto y = a.graph.node(max ? "MaxPool" : "AveragePool", {x}, attrs);
  return one_d ? from_plane(a, y) : y;
}

// Over (C, spatial...) viewed as (C, S, 1) planes: OpenCV 4.6 pools globally over 2-d planes only.
std::string global_pool(const OnnxLayerArgs& a, const std::string& op) {
  const Shape plane{a.input_shape[0], a.input_shape.numel() / a.input_shape[0]};
  return a.graph.node("Flatten", {a.graph.node(op, {to_plane(a, a.input, plane)})}, {{"axis", std::int64_t{1}}});
}

std::string batch_norm(const LayerSlot& slot, const OnnxLayerArgs& a) {
  const auto channels = a.input_shape[0];
  std::vector<float> ones(static_cast<std::size_t>(channels), 1.0f), zeros(ones.size(), 0.0f);
  const bool affine = slot.config.value("affine", true);
  const Shape c{channels};
  const auto scale = affine ? a.graph.constant(a.name + "/weight", a.params[0]) : a.graph.constant(a.name + "/weight", ConstView(ones.data(), c));
  const auto shift = affine ? a.graph.constant(a.name + "/bias", a.params[1]) : a.graph.constant(a.name + "/bias", ConstView(zeros.data(), c));
  return a.graph.node("BatchNormalization",
                      {a.input, scale, shift, a.graph.constant(a.name + "/running_mean", a.buffers[0]),
                       a.graph.constant(a.name + "/running_var", a.buffers[1])},
                      {{"epsilon", static_cast<float>(slot.config.value("eps", 1e-5))}});
}

// (x − mean) / sqrt(var + eps) over the last `axes` axes, then weight and bias. OpenCV 4.6 imports
// neither LayerNormalization (opset 17) nor ReduceMean followed by a broadcasting Sub, so each
// sample's row of M normalised values is a (1, M, 1) plane: AveragePool over the whole plane
// gives its mean, ConvTranspose with an all-ones (M, 1) kernel spreads it back over the plane.
std::string layer_norm(const LayerSlot& slot, const OnnxLayerArgs& a) {
  const auto rank = static_cast<std::int64_t>(a.input_shape.rank());
  std::int64_t k = slot.config.value("axes", std::int64_t{0});
  if (k == 0) k = rank;
  std::int64_t row = 1;
  for (std::int64_t d = rank - k; d < rank; ++d) row *= a.input_shape[static_cast<std::size_t>(d)];
  auto& g = a.graph;
  const auto planes = g.node("Reshape", {a.input, g.int_constant(a.name + "/rows", {-1, 1, row, 1})});
  const Ints window{row, 1};
  const std::vector<float> ones(static_cast<std::size_t>(row), 1.0f);
  const auto spread_kernel = g.constant(a.name + "/spread", ConstView(ones.data(), Shape{1, 1, row, 1}));
  auto row_mean = [&](const std::string& v) {
    const auto mean = g.node("AveragePool", {v}, {{"kernel_shape", window}});
    return g.node("ConvTranspose", {mean, spread_kernel}, {{"kernel_shape", window}});
  };
  const auto centred = g.node("Sub", {planes, row_mean(planes)});
  const auto var = row_mean(g.node("Mul", {centred, centred}));
  const auto eps = scalar(a, "eps", static_cast<float>(slot.config.value("eps", 1e-5)));
  const auto normalised = g.node("Div", {centred, g.node("Sqrt", {g.node("Add", {var, eps})})});
  Ints shape{-1};
  for (std::size_t d = 0; d < a.input_shape.rank(); ++d) shape.push_back(a.input_shape[d]);
  auto y = g.node("Reshape", {normalised, g.int_constant(a.name + "/shape", shape)});
  if (slot.config.value("affine", true)) {
    y = g.node("Mul", {y, g.constant(a.name + "/weight", a.params[0])});
    y = g.node("Add", {y, g.constant(a.name + "/bias", a.params[1])});
  }
  return y;
}

// x·Φ(x) = x·(1 + erf(x/√2))/2, or the tanh form x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2.
std::string gelu(const LayerSlot& slot, const OnnxLayerArgs& a) {
  auto& g = a.graph;
  const auto& x = a.input;
  std::string inner;
  if (slot.config.value("approximate", std::string("none")) == "tanh") {
    const auto cube = g.node("Mul", {g.node("Mul", {x, x}), x});
    const auto sum = g.node("Add", {x, g.node("Mul", {cube, scalar(a, "c", 0.044715f)})});
    inner = g.node("Tanh", {g.node("Mul", {sum, scalar(a, "sqrt_2_over_pi", static_cast<float>(std::sqrt(2.0 / M_PI)))})});
  } else {
    inner = g.node("Erf", {g.node("Mul", {x, scalar(a, "one_over_sqrt2", static_cast<float>(1.0 / std::sqrt(2.0)))})});
  }
  const auto half_x = g.node("Mul", {x, scalar(a, "half", 0.5f)});
  return g.node("Mul", {half_x, g.node("Add", {inner, scalar(a, "one", 1.0f)})});
}

// PyTorch's softplus: x where z = β·x > threshold, log(1 + exp(z))/β elsewhere. With
// log(1 + exp(z)) = z + log(1 + exp(−z)) and log(1 + exp(−z)) = relu(−z) + log(1 + exp(−|z|))
// (no overflow for any z): y = (z + m·(relu(−z) + softplus(−|z|)))/β, m = 1 where z <= threshold.
// OpenCV 4.6 has no Greater, Where or Max with a constant, so m is built from Sign:
// sign(sign(threshold − z) + 0.5) is 1 where z <= threshold and −1 above; m = (that + 1)/2.
std::string softplus(const LayerSlot& slot, const OnnxLayerArgs& a) {
  auto& g = a.graph;
  const float beta = static_cast<float>(slot.config.value("beta", 1.0));
  const float threshold = static_cast<float>(slot.config.value("threshold", 20.0));
  const auto z = g.node("Mul", {a.input, scalar(a, "beta", beta)});
  const auto tail = g.node("Add", {g.node("Relu", {g.node("Neg", {z})}), g.node("Softplus", {g.node("Neg", {g.node("Abs", {z})})})});
  const auto below = g.node("Sign", {g.node("Sub", {scalar(a, "threshold", threshold), z})});
  const auto sign = g.node("Sign", {g.node("Add", {below, scalar(a, "half", 0.5f)})});
  const auto mask = g.node("Mul", {g.node("Add", {sign, scalar(a, "one", 1.0f)}), scalar(a, "half", 0.5f)});
  return g.node("Div", {g.node("Add", {z, g.node("Mul", {mask, tail})}), scalar(a, "beta", beta)});
}

using Translator = std::function<std::string(const LayerSlot&, const OnnxLayerArgs&)>;

std::string simple(const OnnxLayerArgs& a, const std::string& op, std::vector<OnnxAttribute> attrs = {}) {
  return a.graph.node(op, {a.input}, attrs);
}

const std::map<std::string, Translator>& translators() {
  static const std::map<std::string, Translator> table = [] {
    std::map<std::string, Translator> t;
    t["dense"] = dense;
    for (const char* c : {"conv", "conv1d", "conv2d", "conv3d"}) t[c] = conv;
    for (const char* c : {"conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}) t[c] = conv_transpose;
    for (const char* c : {"max_pool", "max_pool1d", "max_pool2d", "max_pool3d"})
      t[c] = [](const LayerSlot& s, const OnnxLayerArgs& a) { return pool(s, a, true); };
    for (const char* c : {"avg_pool", "avg_pool1d", "avg_pool2d", "avg_pool3d"})
      t[c] = [](const LayerSlot& s, const OnnxLayerArgs& a) { return pool(s, a, false); };
    t["global_avg_pool"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return global_pool(a, "GlobalAveragePool"); };
    t["global_max_pool"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return global_pool(a, "GlobalMaxPool"); };
    t["batch_norm"] = batch_norm;
    t["layer_norm"] = layer_norm;
    // Inference form: dropout is the identity, so it adds no node.
    for (const char* c : {"dropout", "spatial_dropout", "identity"})
      t[c] = [](const LayerSlot&, const OnnxLayerArgs& a) { return a.input; };
    t["flatten"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return simple(a, "Flatten", {{"axis", std::int64_t{1}}}); };
    t["reshape"] = [](const LayerSlot&, const OnnxLayerArgs& a) {
      Ints shape{-1};
      for (std::size_t d = 0; d < a.output_shape.rank(); ++d) shape.push_back(a.output_shape[d]);
      return a.graph.node("Reshape", {a.input, a.graph.int_constant(a.name + "/shape", shape)});
    };
    t["relu"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return simple(a, "Relu"); };
    t["sigmoid"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return simple(a, "Sigmoid"); };
    t["tanh"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return simple(a, "Tanh"); };
    t["leaky_relu"] = [](const LayerSlot& s, const OnnxLayerArgs& a) {
      return simple(a, "LeakyRelu", {{"alpha", static_cast<float>(s.config.value("slope", 0.01))}});
    };
    t["elu"] = [](const LayerSlot& s, const OnnxLayerArgs& a) {
      return simple(a, "Elu", {{"alpha", static_cast<float>(s.config.value("alpha", 1.0))}});
    };
    t["selu"] = [](const LayerSlot&, const OnnxLayerArgs& a) {
      return simple(a, "Selu", {{"alpha", 1.6732632423543772848f}, {"gamma", 1.0507009873554804934f}});
    };
    t["hard_sigmoid"] = [](const LayerSlot&, const OnnxLayerArgs& a) {
      return simple(a, "HardSigmoid", {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
    };
    t["gelu"] = gelu;
    for (const char* c : {"silu", "swish"})
      t[c] = [](const LayerSlot&, const OnnxLayerArgs& a) { return a.graph.node("Mul", {a.input, simple(a, "Sigmoid")}); };
    t["softplus"] = softplus;
    t["softmax"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return simple(a, "Softmax", {{"axis", std::int64_t{1}}}); };
    t["log_softmax"] = [](const LayerSlot&, const OnnxLayerArgs& a) {
      return simple(a, "LogSoftmax", {{"axis", std::int64_t{1}}});
    };
    return t;
  }();
  return table;
}

}  // namespace

std::string builtin_to_onnx(const LayerSlot& slot, const OnnxLayerArgs& a) {
  const auto it = translators().find(slot.type);
  if (it == translators().end()) return {};
  return it->second(slot, a);
}

}  // namespace weft::onnx_export
