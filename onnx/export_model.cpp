// A Model as an ONNX ModelProto (see weft/io/onnx_export.hpp for what the file holds).
#include <cstdio>
#include <cstring>
#include <cerrno>

#include "builtin_layers.hpp"
#include "graph_builder.hpp"
#include "hdf5_file.hpp"  // write_atomically
#include "weft/error.hpp"
#include "weft/io/onnx_export.hpp"
#include "weft/version.hpp"

namespace weft::io {
namespace {

constexpr std::int64_t onnx_ir_version = 7;  // the IR version that opset 13 came with

void describe_value(onnx::ValueInfoProto& v, const std::string& name, const Shape& per_sample) {
  v.set_name(name);
  auto& tensor = *v.mutable_type()->mutable_tensor_type();
  tensor.set_elem_type(onnx::TensorProto::FLOAT);
  auto& shape = *tensor.mutable_shape();
  shape.add_dim()->set_dim_param("batch");
  for (std::size_t d = 0; d < per_sample.rank(); ++d) shape.add_dim()->set_dim_value(per_sample[d]);
}

void add_metadata(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  auto& p = *m.add_metadata_props();
  p.set_key(key);
  p.set_value(value);
}

const std::vector<double>& data_tensor(const DataState& data, const std::string& name) {
  for (const auto& [key, values] : data.tensors)
    if (key == name) return values;
  throw IoError("the model's input normalisation has no '" + name + "' statistics");
}

// The input preparation stored with the model (io/normalization), as nodes: the ONNX model
// takes the same raw inputs as `weft predict`. For one of several inputs (`name`), that input's
// own statistics ("mean/<name>", "std/<name>").
std::string normalise(onnx_export::GraphBuilder& g, const Shape& input, const DataState& data, std::string x,
                      const std::string& name = "") {
  const std::string kind = data.settings.value("normalize", std::string("none"));
  if (kind == "none") return x;
  const std::string scope = name.empty() ? "normalize" : "normalize/" + name, suffix = name.empty() ? "" : "/" + name;
  g.set_scope(scope);
  if (kind == "scale") {
    const float factor = static_cast<float>(data.settings.value("scale", 1.0));
    return g.node("Mul", {x, g.constant(scope + "/scale", ConstView(&factor, Shape{}))});
  }
  if (kind != "standardize") throw IoError("the model's input normalisation '" + kind + "' is not one weft knows");
  const auto& mean = data_tensor(data, "mean" + suffix);
  const auto& std = data_tensor(data, "std" + suffix);
  if (static_cast<std::int64_t>(mean.size()) != input.numel() || std.size() != mean.size())
    throw IoError("the model's input normalisation has " + std::to_string(mean.size()) + " features; the model takes " +
                  input.str());
  const std::vector<float> m(mean.begin(), mean.end()), s(std.begin(), std.end());
  x = g.node("Sub", {x, g.constant(scope + "/mean", ConstView(m.data(), input))});
  return g.node("Div", {x, g.constant(scope + "/std", ConstView(s.data(), input))});
}

// What `weft predict` prints for a classifier: probabilities from the raw outputs.
const char* probability_op(const Model& model) {
  if (model.output_shape().rank() != 1) return nullptr;
  const Json& l = model.spec()["loss"];
  const std::string loss = l.is_string() ? l.get<std::string>() : l.value("type", "");
  if (loss == "cross_entropy") return "Softmax";
  if (loss == "nll") return "Exp";
  if (loss == "binary_cross_entropy") return "Sigmoid";
  return nullptr;
}

onnx::ModelProto build(const Model& model, const DataState& data) {
  onnx::ModelProto m;
  m.set_ir_version(onnx_ir_version);
  m.set_producer_name("weft");
  m.set_producer_version(weft::version);
  m.set_doc_string("exported by weft " + std::string(weft::version) + " (inference form)");
  auto& opset = *m.add_opset_import();
  opset.set_domain("");
  opset.set_version(onnx_opset);
  add_metadata(m, "weft_version", weft::version);
  add_metadata(m, "spec", model.spec().dump());
  Json prepared = data.settings.contains("normalize") ? Json(data.settings["normalize"]) : Json("none");
  add_metadata(m, "normalize", prepared.dump());

  auto& graph = *m.mutable_graph();
  graph.set_name(model.spec().value("name", std::string("weft_model")));
  onnx_export::GraphBuilder g(graph);
  g.reserve("input");
  g.reserve("output");
  g.reserve("probabilities");
  // One graph input per model input: "input" for a model with one, the input names otherwise.
  std::vector<std::string> values;  // the ONNX value holding each tensor of the graph (weft/model.hpp)
  if (model.input_count() == 1) {
    describe_value(*graph.add_input(), "input", model.input_shape());
    values.push_back(normalise(g, model.input_shape(), data, "input"));
  } else {
    for (std::size_t i = 0; i < model.input_count(); ++i) {
      const std::string& name = model.input_name(i);
      if (name == "output" || name == "probabilities")
        throw Error("ONNX export: the model input '" + name + "' has the name of the graph's output; rename the input");
      g.reserve(name);
      describe_value(*graph.add_input(), name, model.input_shape(i));
      values.push_back(normalise(g, model.input_shape(i), data, name, name));
    }
  }

  auto* params = const_cast<float*>(model.parameters().data());  // read only: views need a float*
  auto* buffers = const_cast<float*>(model.buffers().data());
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const LayerSlot& slot = model.layer(i);
    const auto pv = model.param_views(i, params);
    const auto bv = model.buffer_views(i, buffers);
    const std::vector<ConstView> p(pv.begin(), pv.end()), b(bv.begin(), bv.end());
    g.set_scope(slot.name);
    std::vector<std::string> inputs;
    for (const auto v : slot.sources) inputs.push_back(values[v]);
    const OnnxLayerArgs args{g, inputs[0], slot.input, slot.output, p, b, slot.name, inputs};
    std::string y = onnx_export::builtin_to_onnx(slot, args);
    if (y.empty()) y = slot.layer->to_onnx(args);
    if (y.empty())
      throw Error("layer '" + slot.name + "' (" + slot.type +
                  ") has no ONNX equivalent: its plugin does not implement Layer::to_onnx");
    values.push_back(y);
  }
  const std::string x = values[model.input_count() + model.output_layer()];

  g.set_scope("output");
  g.named_node("Identity", {x}, "output");
  describe_value(*graph.add_output(), "output", model.output_shape());
  if (const char* op = probability_op(model)) {
    std::vector<OnnxAttribute> attributes;
    if (std::strcmp(op, "Softmax") == 0) attributes.push_back({"axis", std::int64_t{1}});
    g.named_node(op, {x}, "probabilities", attributes);
    describe_value(*graph.add_output(), "probabilities", model.output_shape());
  }
  return m;
}

}  // namespace

bool onnx_export_available() { return true; }

void export_onnx(const Model& model, const std::string& path, const DataState& data) {
  const std::string bytes = build(model, data).SerializeAsString();
  write_atomically(path, [&](const std::string& temp) {
    std::FILE* f = std::fopen(temp.c_str(), "wb");
    if (!f) throw IoError("cannot write '" + path + "': " + std::strerror(errno));
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    const int saved = errno;
    if (std::fclose(f) != 0 || !written)
      throw IoError("cannot write '" + path + "': " + std::strerror(written ? errno : saved));
  });
}

}  // namespace weft::io
