#include "weft/model.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "weft/registry.hpp"
#include "weft/training_config.hpp"

namespace weft {
namespace {

// Settings every layer may carry that the model, not the layer, interprets.
constexpr std::array<std::string_view, 6> model_layer_keys = {"name",        "inputs",
                                                              "lr_mult",     "frozen",
                                                              "regularizer", "activity_regularizer"};
const std::set<std::string, std::less<>> spec_keys = {"input",    "inputs", "output",      "layers", "loss",
                                                      "optimizer", "training", "name", "description"};

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

Shape parse_shape(const Json& in, const std::string& what) {
  std::vector<std::int64_t> dims;
  if (in.is_array() && !in.empty() && in.size() < Shape::max_rank)
    for (const auto& d : in)
      if (d.is_number_integer() && d.get<std::int64_t>() > 0) dims.push_back(d.get<std::int64_t>());
  if (dims.empty() || dims.size() != in.size())
    throw SpecError("model spec: " + what + " must be a list of 1 to " + std::to_string(Shape::max_rank - 1) +
                    " positive integers, got " + describe(in));
  return Shape(std::span<const std::int64_t>(dims));
}

bool valid_name(const Json& name) {
  return name.is_string() && !name.get<std::string>().empty() && name.get<std::string>().find('/') == std::string::npos;
}

// "inputs": ["a", "b"] of one layer spec, or empty when it reads the previous layer's output.
std::vector<std::string> requested_inputs(const Json& layer_spec, const std::string& where) {
  if (!layer_spec.is_object() || !layer_spec.contains("inputs")) return {};
  const Json& in = layer_spec["inputs"];
  std::vector<std::string> names;
  if (in.is_array())
    for (const auto& n : in)
      if (n.is_string() && !n.get<std::string>().empty()) names.push_back(n.get<std::string>());
  if (names.empty() || names.size() != in.size())
    throw SpecError(where + ": 'inputs' must be a non-empty list of layer or model input names, got " + describe(in));
  return names;
}

// The explicit name of a later layer called `name`, for an error message: its index, or -1.
std::int64_t later_layer_named(const Json& layers, std::size_t after, const std::string& name) {
  for (std::size_t j = after + 1; j < layers.size(); ++j)
    if (layers[j].is_object() && layers[j].contains("name") && layers[j]["name"] == name) return static_cast<std::int64_t>(j);
  return -1;
}


std::size_t append_tensors(std::vector<NamedTensor>& table, const std::vector<ParamDecl>& decls,
                           const std::string& layer_name, std::size_t layer_index, std::size_t offset,
                           std::vector<std::size_t>& indices) {
  std::set<std::string> seen;
  for (const auto& d : decls) {
    if (!seen.insert(d.name).second)
      throw SpecError("layer '" + layer_name + "' declares the tensor '" + d.name + "' twice");
    // Keep every tensor 64-byte aligned inside the flat buffer.
    indices.push_back(table.size());
    table.push_back({layer_name + "/" + d.name, layer_index, d.name, d.shape, offset, d.is_bias, d.init});
    offset += (static_cast<std::size_t>(d.shape.numel()) + 15) / 16 * 16;
  }
  return offset;
}

// The per-layer training settings ("lr_mult", "frozen", "regularizer", "activity_regularizer"):
// checked and built here, written back resolved into `config` when the spec gave them.
void read_layer_training(const Json& layer_spec, const std::string& where, LayerSlot& slot, Json& config) {
  if (layer_spec.is_string()) return;
  if (layer_spec.contains("lr_mult")) {
    const Json& v = layer_spec["lr_mult"];
    if (!v.is_number() || !(v.get<double>() >= 0) || !std::isfinite(v.get<double>()))
      throw SpecError(where + ": 'lr_mult' must be a number >= 0, got " + describe(v));
    slot.lr_mult = v.get<double>();
    config["lr_mult"] = slot.lr_mult;
  }
  if (layer_spec.contains("frozen")) {
    if (!layer_spec["frozen"].is_boolean())
      throw SpecError(where + ": 'frozen' must be true or false, got " + describe(layer_spec["frozen"]));
    slot.frozen = layer_spec["frozen"].get<bool>();
    config["frozen"] = slot.frozen;
  }
  for (const bool activity : {false, true}) {
    const std::string key = activity ? "activity_regularizer" : "regularizer";
    if (!layer_spec.contains(key) || layer_spec[key].is_null()) continue;
    auto built = registry().regularizers.create(layer_spec[key], where + ": " + key);
    if (built.module->is_activity() != activity)
      throw SpecError(where + ": '" + key + "' takes " +
                      (activity ? "an activity penalty (activity_l1, kl_sparsity)" : "a weight penalty (l1, l2, elastic_net)") +
                      ", but '" + built.config["type"].get<std::string>() + "' is " +
                      (activity ? "a weight penalty: put it under 'regularizer'" : "an activity penalty: put it under 'activity_regularizer'"));
    (activity ? slot.activity_regularizer : slot.regularizer) = std::move(built.module);
    config[key] = built.config;
  }
}

std::vector<View> views_of(const std::vector<NamedTensor>& table, const std::vector<std::size_t>& indices,
                           float* flat) {
  std::vector<View> out;
  for (auto i : indices) out.emplace_back(flat + table[i].offset, table[i].shape);
  return out;
}

}  // namespace

Fans fans_of(const Shape& shape) {
  if (shape.rank() == 0) return {1, 1};
  if (shape.rank() == 1) return {double(shape[0]), double(shape[0])};
  double receptive = 1;
  for (std::size_t i = 2; i < shape.rank(); ++i) receptive *= double(shape[i]);
  return {double(shape[1]) * receptive, double(shape[0]) * receptive};
}

Model::Model(const Json& spec) {
  if (!spec.is_object()) throw SpecError("model spec: expected a JSON object, got " + describe(spec));
  for (const auto& [key, _] : spec.items())
    if (!spec_keys.contains(key))
      throw SpecError("model spec: unknown key '" + key +
                      "'; accepted keys: input, inputs, output, layers, loss, optimizer, training, name, description");
  spec_ = Json::object();
  if (spec.contains("input") == spec.contains("inputs"))
    throw SpecError(spec.contains("input")
                        ? "model spec: give either \"input\" (one input) or \"inputs\" (named inputs), not both"
                        : "model spec: missing \"input\", the per-sample input shape such as [784] or [1, 28, 28] "
                          "(or \"inputs\": {\"image\": [1, 28, 28], \"meta\": [12]} for several)");
  if (spec.contains("input")) {
    inputs_.push_back({"input", parse_shape(spec["input"], "\"input\"")});
    spec_["input"] = inputs_[0].shape.to_vector();
  } else {
    const Json& in = spec["inputs"];
    if (!in.is_object() || in.empty())
      throw SpecError("model spec: \"inputs\" must map each input name to its per-sample shape, such as "
                      "{\"image\": [1, 28, 28], \"meta\": [12]}, got " + describe(in));
    spec_["inputs"] = Json::object();
    for (const auto& [name, shape] : in.items()) {
      if (!valid_name(Json(name))) throw SpecError("model spec: input name '" + name + "' must be non-empty without '/'");
      inputs_.push_back({name, parse_shape(shape, "input '" + name + "'")});
      spec_["inputs"][name] = inputs_.back().shape.to_vector();
    }
  }
  if (!spec.contains("layers") || !spec["layers"].is_array() || spec["layers"].empty())
    throw SpecError("model spec: \"layers\" must be a non-empty list of layer objects");

  Registries& reg = registry();
  if (spec.contains("name")) spec_["name"] = spec["name"];
  if (spec.contains("description")) spec_["description"] = spec["description"];
  spec_["layers"] = Json::array();

  // Value ids by name: the model inputs, then each layer's output once it is built.
  std::map<std::string, std::size_t> value_ids;
  std::vector<std::string> known;
  for (std::size_t k = 0; k < inputs_.size(); ++k) {
    value_ids[inputs_[k].name] = k;
    known.push_back(inputs_[k].name);
  }
  std::vector<bool> read(inputs_.size() + spec["layers"].size(), false);
  std::size_t param_offset = 0, buffer_offset = 0;
  for (std::size_t i = 0; i < spec["layers"].size(); ++i) {
    const Json& layer_spec = spec["layers"][i];
    const std::string context = "layer " + std::to_string(i);
    auto built = reg.layers.create(layer_spec, context, model_layer_keys);
    LayerSlot slot;
    slot.type = built.config["type"];
    slot.name = slot.type + "_" + std::to_string(i);
    if (layer_spec.contains("name")) {
      if (!valid_name(layer_spec["name"]))
        throw SpecError(context + " (" + slot.type + "): 'name' must be a non-empty string without '/', got " +
                        describe(layer_spec["name"]));
      slot.name = layer_spec["name"];
    }
    const std::string where = context + " (" + slot.type + " '" + slot.name + "')";
    if (value_ids.contains(slot.name))
      throw SpecError(context + " (" + slot.type + "): the name '" + slot.name + "' is already used by " +
                      (value_ids[slot.name] < inputs_.size() ? "a model input" : "another layer"));
    const auto requested = requested_inputs(layer_spec, where);
    for (const auto& name : requested) {
      const auto found = value_ids.find(name);
      if (found != value_ids.end()) {
        slot.sources.push_back(found->second);
        continue;
      }
      const auto later = later_layer_named(spec["layers"], i, name);
      if (name == slot.name) throw SpecError(where + " reads itself: a layer reads only model inputs and earlier layers");
      throw SpecError(where + " reads '" + name + "', which " +
                      (later >= 0 ? "is defined after it (layer " + std::to_string(later) +
                                        "): a layer reads only model inputs and earlier layers, so the graph has no cycle"
                                  : "is neither a model input nor an earlier layer (known: " + join_names(known) + ")"));
    }
    if (requested.empty()) {
      if (i == 0 && inputs_.size() > 1)
        throw SpecError(where + ": the model has several inputs (" + join_names(known) +
                        "): say which ones the layer reads with \"inputs\"");
      slot.sources.push_back(i == 0 ? 0 : inputs_.size() + i - 1);
    }
    std::string reading;  // "'conv_1' (8, 14, 14) and 'input' (1, 28, 28)" for errors
    for (auto v : slot.sources) {
      read[v] = true;
      slot.inputs.push_back(value_shape(v));
      reading += std::string(reading.empty() ? "" : " and ") + "'" + value_name(v) + "' " + value_shape(v).str();
    }
    slot.input = slot.inputs[0];
    slot.layer = std::move(built.module);
    try {
      slot.output = slot.layer->infer_many(slot.inputs);
    } catch (const Error& e) {
      throw ShapeError(requested.empty() ? context + " (" + slot.type + ") with input shape " + slot.input.str() + ": " + e.what()
                                         : where + " reading " + reading + ": " + e.what());
    }
    param_offset = append_tensors(param_table_, slot.layer->parameters(), slot.name, i, param_offset, slot.params);
    buffer_offset = append_tensors(buffer_table_, slot.layer->buffers(), slot.name, i, buffer_offset, slot.buffers);
    slot.config = built.config;
    slot.config["name"] = slot.name;
    // Only when the spec gave them: a chain's resolved spec stays what it was, so the files
    // and checkpoints written before graphs existed compare equal and resume.
    if (!requested.empty()) slot.config["inputs"] = requested;
    read_layer_training(layer_spec, context + " (" + slot.type + ")", slot, slot.config);
    spec_["layers"].push_back(slot.config);
    value_ids[slot.name] = inputs_.size() + i;
    known.push_back(slot.name);
    layers_.push_back(std::move(slot));
  }
  output_ = layers_.size() - 1;
  if (spec.contains("output")) {
    const Json& out = spec["output"];
    const auto found = out.is_string() ? value_ids.find(out.get<std::string>()) : value_ids.end();
    if (found == value_ids.end() || found->second < inputs_.size())
      throw SpecError("model spec: \"output\" must name a layer (known: " + join_names(known) + "), got " + describe(out));
    output_ = found->second - inputs_.size();
    spec_["output"] = out;
  }
  if (output_ + 1 < layers_.size()) {
    // Spec order is execution order and a layer reads only earlier ones, so nothing after the
    // output can feed it: those layers would run for nothing (there is one output per model).
    std::string later;
    for (std::size_t l = output_ + 1; l < layers_.size(); ++l) later += (later.empty() ? "'" : ", '") + layers_[l].name + "'";
    throw SpecError("model spec: \"output\" names layer " + std::to_string(output_) + " ('" + layers_[output_].name +
                    "'), but " + later + (layers_.size() - output_ > 2 ? " come" : " comes") +
                    " after it and cannot feed it (a layer reads only earlier layers): remove " +
                    (layers_.size() - output_ > 2 ? "them" : "it") + ", or leave out \"output\" to use the last layer");
  }
  read[inputs_.size() + output_] = true;
  for (std::size_t v = 0; v < read.size(); ++v) {
    if (read[v]) continue;
    if (v < inputs_.size())
      throw SpecError("model spec: the model input '" + value_name(v) + "' is not read by any layer");
    throw SpecError("model spec: the output of layer " + std::to_string(v - inputs_.size()) + " ('" + value_name(v) +
                    "') is not read by any layer and is not the model output ('" + layers_[output_].name +
                    "'): name it in a later layer's \"inputs\"");
  }
  const Shape& shape = output_shape();

  const Json loss_spec = spec.contains("loss") ? spec["loss"] : Json("cross_entropy");
  auto loss = reg.losses.create(loss_spec, "loss");
  loss_ = std::move(loss.module);
  spec_["loss"] = loss.config;
  try {
    (void)loss_->target_shape(shape);
  } catch (const Error& e) {
    throw ShapeError("loss (" + loss.config["type"].get<std::string>() + ") on the model output shape " +
                     shape.str() + ": " + e.what());
  }
  if (spec.contains("optimizer")) {
    auto opt = reg.optimizers.create(spec["optimizer"], "optimizer");
    optimizer_ = std::move(opt.module);
    spec_["optimizer"] = opt.config;
  }
  if (spec.contains("training")) spec_["training"] = resolve_training(spec["training"]);
  if (spec_.contains("training") && spec_["training"].contains("datasets"))
    for (const auto& [input, dataset] : spec_["training"]["datasets"].items()) {
      bool known_input = false;
      for (const auto& in : inputs_) known_input = known_input || in.name == input;
      if (!known_input) {
        std::vector<std::string> names;
        for (const auto& in : inputs_) names.push_back(in.name);
        throw SpecError("training: datasets: '" + input + "' is not a model input (inputs: " + join_names(names) + ")");
      }
    }
  params_ = Tensor(Shape{static_cast<std::int64_t>(param_offset)});
  buffers_ = Tensor(Shape{static_cast<std::int64_t>(buffer_offset)});
}

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

const Shape& Model::output_shape() const { return layers_[output_].output; }

const std::string& Model::value_name(std::size_t value) const {
  return value < inputs_.size() ? inputs_[value].name : layers_[value - inputs_.size()].name;
}
const Shape& Model::value_shape(std::size_t value) const {
  return value < inputs_.size() ? inputs_[value].shape : layers_[value - inputs_.size()].output;
}
Shape Model::target_shape() const { return loss_->target_shape(output_shape()); }

const Optimizer& Model::optimizer() const {
  if (!optimizer_) throw SpecError("model spec: training needs an \"optimizer\", such as {\"type\": \"adam\"}");
  return *optimizer_;
}

void Model::initialize(std::uint64_t seed) {
  const CounterRng root = CounterRng(seed).derive(rng_stream::init);
  Registries& reg = registry();
  auto fill = [&](std::vector<NamedTensor>& table, Tensor& flat) {
    for (const auto& t : table) {
      const std::string context = "initializer of " + t.name;
      auto built = reg.initializers.create(t.init, context);
      try {
        built.module->fill(View(flat.data() + t.offset, t.shape), fans_of(t.shape), root.derive(fnv1a(t.name)));
      } catch (const Error& e) {  // an initializer that cannot fill this shape: say which tensor
        throw SpecError(context + " (" + built.config["type"].get<std::string>() + "): " + e.what());
      }
    }
  };
  fill(param_table_, params_);
  fill(buffer_table_, buffers_);
}

std::vector<View> Model::param_views(std::size_t i, float* flat) const {
  return views_of(param_table_, layers_[i].params, flat);
}
std::vector<View> Model::buffer_views(std::size_t i, float* flat) const {
  return views_of(buffer_table_, layers_[i].buffers, flat);
}

std::string Model::summary() const {
  std::ostringstream out;
  char line[160];
  std::snprintf(line, sizeof line, "%-4s %-22s %-18s %-20s %12s  %s\n", "#", "layer", "type", "output shape", "parameters",
                "inputs");
  out << line << std::string(96, '-') << '\n';
  for (const auto& in : inputs_) {
    std::snprintf(line, sizeof line, "%-4s %-22s %-18s %-20s %12s\n", "", in.name.c_str(), "input", in.shape.str().c_str(), "");
    out << line;
  }
  std::int64_t total = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::int64_t count = 0;
    for (auto p : layers_[i].params) count += param_table_[p].shape.numel();
    total += count;
    std::string reads;
    for (auto v : layers_[i].sources) reads += (reads.empty() ? "" : ", ") + value_name(v);
    std::snprintf(line, sizeof line, "%-4zu %-22s %-18s %-20s %12lld  ", i, layers_[i].name.c_str(),
                  layers_[i].type.c_str(), layers_[i].output.str().c_str(), static_cast<long long>(count));
    out << line << reads << (i == output_ && i + 1 != layers_.size() ? "  (model output)" : "") << '\n';
  }
  out << std::string(96, '-') << '\n';
  out << "trainable parameters: " << total << "\n";
  out << "loss: " << spec_["loss"].dump() << "\n";
  if (spec_.contains("optimizer")) out << "optimizer: " << spec_["optimizer"].dump() << "\n";
  return out.str();
}

Json read_spec_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open model spec '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return Json::parse(text.str());
  } catch (const Json::parse_error& e) {
    throw SpecError("model spec '" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace weft
