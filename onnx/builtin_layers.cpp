// Each built-in layer as ONNX nodes at opset 13 (the sliding-window layers are in
// window_layers.cpp). Ops that OpenCV 4.6's importer lacks are written out in ops it has
// (layer_norm, gelu, silu, softplus), so that the exported models run there as well as in
// runtimes with the full op set.
#include "builtin_layers.hpp"

#include <cmath>
#include <functional>
#include <map>

#include "layer_helpers.hpp"
#include "weft/error.hpp"
#include "window_layers.hpp"

namespace weft::onnx_export {
namespace {

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

// (x − mean) / sqrt(var + eps) over each sample's last `axes` axes (a row of M values), then
// weight and bias. OpenCV 4.6 imports neither LayerNormalization (opset 17) nor ReduceMean
// followed by a broadcasting Sub, so the row means are spread back over the rows without
// broadcasting: for a flat input (N, M), x times an M × M matrix of 1/M (Gemm); otherwise each
// row is a (1, M, 1) plane, AveragePool over the plane gives its mean and ConvTranspose with an
// all-ones (M, 1) kernel spreads it over the plane.
std::string layer_norm(const LayerSlot& slot, const OnnxLayerArgs& a) {
  const auto rank = static_cast<std::int64_t>(a.input_shape.rank());
  std::int64_t k = slot.config.value("axes", std::int64_t{0});
  if (k == 0) k = rank;
  std::int64_t row = 1;
  for (std::int64_t d = rank - k; d < rank; ++d) row *= a.input_shape[static_cast<std::size_t>(d)];
  auto& g = a.graph;
  std::string rows;
  std::function<std::string(const std::string&)> row_mean;
  std::vector<float> spread_values;
  if (rank == 1) {
    rows = a.input;
    spread_values.assign(static_cast<std::size_t>(row * row), static_cast<float>(1.0 / static_cast<double>(row)));
    const auto averaging = g.constant(a.name + "/averaging", ConstView(spread_values.data(), Shape{row, row}));
    std::vector<float> zeros(static_cast<std::size_t>(row), 0.0f);
    const auto no_bias = g.constant(a.name + "/zeros", ConstView(zeros.data(), Shape{row}));
    row_mean = [&g, averaging, no_bias](const std::string& v) { return g.node("Gemm", {v, averaging, no_bias}); };
  } else {
    rows = g.node("Reshape", {a.input, g.int_constant(a.name + "/rows", {-1, 1, row, 1})});
    spread_values.assign(static_cast<std::size_t>(row), 1.0f);
    const auto spread = g.constant(a.name + "/spread", ConstView(spread_values.data(), Shape{1, 1, row, 1}));
    row_mean = [&g, spread, row](const std::string& v) {
      const Ints window{row, 1};
      return g.node("ConvTranspose", {g.node("AveragePool", {v}, {{"kernel_shape", window}}), spread}, {{"kernel_shape", window}});
    };
  }
  const auto centred = g.node("Sub", {rows, row_mean(rows)});
  const auto var = row_mean(g.node("Mul", {centred, centred}));
  const auto eps = scalar(a, "eps", static_cast<float>(slot.config.value("eps", 1e-5)));
  auto y = g.node("Div", {centred, g.node("Sqrt", {g.node("Add", {var, eps})})});
  if (rank > 1) y = reshape(a, y, a.input_shape);
  if (slot.config.value("affine", true)) {
    // Weight and bias of the normalised shape, repeated over the leading per-sample axes: OpenCV
    // 4.6 broadcasts a constant over the batch axis only.
    const std::int64_t repeats = a.input_shape.numel() / row;
    std::vector<float> weight, bias;
    for (std::int64_t r = 0; r < repeats; ++r) {
      weight.insert(weight.end(), a.params[0].data(), a.params[0].data() + row);
      bias.insert(bias.end(), a.params[1].data(), a.params[1].data() + row);
    }
    y = g.node("Mul", {y, g.constant(a.name + "/weight", ConstView(weight.data(), a.input_shape))});
    y = g.node("Add", {y, g.constant(a.name + "/bias", ConstView(bias.data(), a.input_shape))});
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
    for (const char* c : {"conv", "conv1d", "conv2d", "conv3d"}) t[c] = conv_to_onnx;
    for (const char* c : {"conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"})
      t[c] = conv_transpose_to_onnx;
    for (const char* c : {"max_pool", "max_pool1d", "max_pool2d", "max_pool3d"})
      t[c] = [](const LayerSlot& s, const OnnxLayerArgs& a) { return pool_to_onnx(s, a, true); };
    for (const char* c : {"avg_pool", "avg_pool1d", "avg_pool2d", "avg_pool3d"})
      t[c] = [](const LayerSlot& s, const OnnxLayerArgs& a) { return pool_to_onnx(s, a, false); };
    t["global_avg_pool"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return global_pool_to_onnx(a, "GlobalAveragePool"); };
    t["global_max_pool"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return global_pool_to_onnx(a, "GlobalMaxPool"); };
    t["batch_norm"] = batch_norm;
    t["layer_norm"] = layer_norm;
    // Inference form: dropout is the identity, so it adds no node.
    for (const char* c : {"dropout", "spatial_dropout", "identity"})
      t[c] = [](const LayerSlot&, const OnnxLayerArgs& a) { return a.input; };
    t["flatten"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return simple(a, "Flatten", {{"axis", std::int64_t{1}}}); };
    t["reshape"] = [](const LayerSlot&, const OnnxLayerArgs& a) { return reshape(a, a.input, a.output_shape); };
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
    // Merge layers: ONNX's Add, Sub and Mul broadcast as weft does (both follow numpy), and
    // take two inputs, so n inputs become a left-to-right chain, weft's order of summation.
    for (const auto& [type, op] : {std::pair{"add", "Add"}, {"subtract", "Sub"}, {"multiply", "Mul"}})
      t[type] = [op = std::string(op)](const LayerSlot&, const OnnxLayerArgs& a) {
        std::string y = a.inputs[0];
        for (std::size_t k = 1; k < a.inputs.size(); ++k) y = a.graph.node(op, {y, a.inputs[k]});
        return y;
      };
    t["concat"] = [](const LayerSlot& s, const OnnxLayerArgs& a) {
      const std::int64_t axis = s.config.value("axis", std::int64_t{0});
      return a.graph.node("Concat", a.inputs, {{"axis", axis < 0 ? axis : axis + 1}});  // after the batch axis
    };
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
