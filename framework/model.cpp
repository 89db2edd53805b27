#include "weft/model.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "weft/registry.hpp"
#include "weft/training_config.hpp"

namespace weft {
namespace {

// Settings every layer may carry that the model, not the layer, interprets.
constexpr std::array<std::string_view, 5> model_layer_keys = {"name", "lr_mult", "frozen", "regularizer",
                                                              "activity_regularizer"};
const std::set<std::string, std::less<>> spec_keys = {"input",    "layers", "loss",       "optimizer",
                                                      "training", "name",   "description"};

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

Shape parse_input_shape(const Json& spec) {
  if (!spec.contains("input"))
    throw SpecError("model spec: missing \"input\", the per-sample input shape such as [784] or [1, 28, 28]");
  const Json& in = spec["input"];
  std::vector<std::int64_t> dims;
  if (in.is_array() && !in.empty() && in.size() < Shape::max_rank)
    for (const auto& d : in)
      if (d.is_number_integer() && d.get<std::int64_t>() > 0) dims.push_back(d.get<std::int64_t>());
  if (dims.empty() || dims.size() != in.size())
    throw SpecError("model spec: \"input\" must be a list of 1 to " + std::to_string(Shape::max_rank - 1) +
                    " positive integers, got " + describe(in));
  return Shape(std::span<const std::int64_t>(dims));
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
                      "'; accepted keys: input, layers, loss, optimizer, training, name, description");
  input_ = parse_input_shape(spec);
  if (!spec.contains("layers") || !spec["layers"].is_array() || spec["layers"].empty())
    throw SpecError("model spec: \"layers\" must be a non-empty list of layer objects");

  Registries& reg = registry();
  spec_ = Json::object();
  spec_["input"] = input_.to_vector();
  if (spec.contains("name")) spec_["name"] = spec["name"];
  if (spec.contains("description")) spec_["description"] = spec["description"];
  spec_["layers"] = Json::array();

  Shape shape = input_;
  std::size_t param_offset = 0, buffer_offset = 0;
  std::set<std::string> names;
  for (std::size_t i = 0; i < spec["layers"].size(); ++i) {
    const Json& layer_spec = spec["layers"][i];
    const std::string context = "layer " + std::to_string(i);
    auto built = reg.layers.create(layer_spec, context, model_layer_keys);
    LayerSlot slot;
    slot.type = built.config["type"];
    slot.name = slot.type + "_" + std::to_string(i);
    if (layer_spec.contains("name")) {
      if (!layer_spec["name"].is_string() || layer_spec["name"].get<std::string>().empty() ||
          layer_spec["name"].get<std::string>().find('/') != std::string::npos)
        throw SpecError(context + " (" + slot.type + "): 'name' must be a non-empty string without '/', got " +
                        describe(layer_spec["name"]));
      slot.name = layer_spec["name"];
    }
    if (!names.insert(slot.name).second)
      throw SpecError(context + " (" + slot.type + "): the name '" + slot.name + "' is already used by another layer");
    slot.layer = std::move(built.module);
    slot.input = shape;
    try {
      slot.output = slot.layer->infer(shape);
    } catch (const Error& e) {
      throw ShapeError(context + " (" + slot.type + ") with input shape " + shape.str() + ": " + e.what());
    }
    param_offset = append_tensors(param_table_, slot.layer->parameters(), slot.name, i, param_offset, slot.params);
    buffer_offset = append_tensors(buffer_table_, slot.layer->buffers(), slot.name, i, buffer_offset, slot.buffers);
    slot.config = built.config;
    slot.config["name"] = slot.name;
    read_layer_training(layer_spec, context + " (" + slot.type + ")", slot, slot.config);
    spec_["layers"].push_back(slot.config);
    shape = slot.output;
    layers_.push_back(std::move(slot));
  }

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
  params_ = Tensor(Shape{static_cast<std::int64_t>(param_offset)});
  buffers_ = Tensor(Shape{static_cast<std::int64_t>(buffer_offset)});
}

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

const Shape& Model::output_shape() const { return layers_.back().output; }
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
  std::snprintf(line, sizeof line, "%-4s %-22s %-18s %-20s %12s\n", "#", "layer", "type", "output shape", "parameters");
  out << line << std::string(80, '-') << '\n';
  std::snprintf(line, sizeof line, "%-4s %-22s %-18s %-20s %12s\n", "", "input", "", input_.str().c_str(), "");
  out << line;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::int64_t count = 0;
    for (auto p : layers_[i].params) count += param_table_[p].shape.numel();
    total += count;
    std::snprintf(line, sizeof line, "%-4zu %-22s %-18s %-20s %12lld\n", i, layers_[i].name.c_str(),
                  layers_[i].type.c_str(), layers_[i].output.str().c_str(), static_cast<long long>(count));
    out << line;
  }
  out << std::string(80, '-') << '\n';
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
