#include "weft/io/checkpoint.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "checkpoint_early_stopping.hpp"
#include "hdf5_file.hpp"
#include "model_file_parts.hpp"

namespace weft::io {
namespace {

// JSON has no NaN or infinity (nlohmann writes them as null), but a training state may hold
// them (a metric that is undefined for regression). They are stored as {"non_finite": "nan"},
// so the state reads back bit for bit.
constexpr const char* non_finite_key = "non_finite";

Json encode_non_finite(const Json& j) {
  if (j.is_number_float() && !std::isfinite(j.get<double>())) {
    const double v = j.get<double>();
    return {{non_finite_key, std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf")}};
  }
  if (j.is_array() || j.is_object()) {
    Json out = j;
    for (auto it = out.begin(); it != out.end(); ++it) *it = encode_non_finite(*it);
    return out;
  }
  return j;
}

Json decode_non_finite(const Json& j) {
  if (j.is_object() && j.size() == 1 && j.contains(non_finite_key) && j[non_finite_key].is_string()) {
    const auto text = j[non_finite_key].get<std::string>();
    if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (text == "inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
  }
  if (j.is_array() || j.is_object()) {
    Json out = j;
    for (auto it = out.begin(); it != out.end(); ++it) *it = decode_non_finite(*it);
    return out;
  }
  return j;
}

Json parse_attribute(const H5File& file, const std::string& object, const std::string& key) {
  try {
    return Json::parse(file.string_attribute(object, key));
  } catch (const Json::parse_error& e) {
    throw IoError("'" + file.path() + "': attribute '" + key + "' on '" + object + "' is not valid JSON: " + e.what());
  }
}

void write_optimizer(H5File& file, const Model& model, const TrainingState& training) {
  file.make_groups("/optimizer");
  if (model.has_optimizer()) {
    const Json& config = model.spec()["optimizer"];
    file.set_string_attribute("/optimizer", "type", config.value("type", ""));
    file.set_string_attribute("/optimizer", "config", config.dump());
    // The settings again one by one, for readers that do not parse JSON.
    for (const auto& [key, value] : config.items()) {
      if (value.is_boolean()) file.set_int_attribute("/optimizer", key, value.get<bool>() ? 1 : 0);
      else if (value.is_number()) file.set_double_attribute("/optimizer", key, value.get<double>());
    }
    file.set_string_attribute("/optimizer", "slots", Json(model.optimizer().slots()).dump());
  }
  for (const auto& [name, tensor] : training.tensors) file.write_floats("/optimizer/" + name, tensor.shape(), tensor.data());
}

// The history as one float64 series per metric, for h5py readers; the state attribute holds it
// too (and is what loading uses). Accepts epochs as [[name, value], ...] or {name: value}.
void write_history(H5File& file, const Json& history) {
  if (!history.is_array() || history.empty()) return;
  std::vector<std::string> names;
  auto each_metric = [](const Json& epoch, const auto& f) {
    if (epoch.is_object())
      for (const auto& [name, value] : epoch.items()) f(name, value);
    else if (epoch.is_array())
      for (const auto& pair : epoch)
        if (pair.is_array() && pair.size() == 2 && pair[0].is_string()) f(pair[0].get<std::string>(), pair[1]);
  };
  for (const auto& epoch : history)
    each_metric(epoch, [&](const std::string& name, const Json&) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    });
  file.make_groups("/training/history");
  for (const auto& name : names) {
    std::vector<double> series(history.size(), std::numeric_limits<double>::quiet_NaN());
    for (std::size_t e = 0; e < history.size(); ++e)
      each_metric(history[e], [&](const std::string& n, const Json& value) {
        if (n == name && value.is_number()) series[e] = value.get<double>();
      });
    file.write_doubles("/training/history/" + name, Shape{static_cast<std::int64_t>(series.size())}, series.data());
  }
}

void write_training(H5File& file, const TrainingState& training) {
  file.make_groups("/training");
  const Json& j = training.json;
  file.set_string_attribute("/training", "state", encode_non_finite(j).dump());
  for (const char* key : {"epoch", "step", "position"})
    if (j.contains(key) && j[key].is_number_integer()) file.set_int_attribute("/training", key, j[key].get<std::int64_t>());
  if (j.contains("lr") && j["lr"].is_number()) file.set_double_attribute("/training", "lr", j["lr"].get<double>());
  if (j.contains("rng") && j["rng"].is_object() && j["rng"].contains("seed"))
    file.set_string_attribute("/training", "seed", j["rng"]["seed"].dump());
  if (j.contains("schedule")) file.set_string_attribute("/training", "schedule", encode_non_finite(j["schedule"]).dump());
  if (j.contains("history")) write_history(file, j["history"]);
}

TrainingState read_training(const H5File& file, const Model& model) {
  TrainingState training;
  training.json = decode_non_finite(parse_attribute(file, "/training", "state"));
  // One tensor per (parameter, slot), in the order Trainer::state() gives them.
  std::vector<ExpectedTensor> expected;
  if (model.has_optimizer()) {
    const auto slots = model.optimizer().slots();
    training.tensors.reserve(model.parameter_table().size() * slots.size());
    for (const auto& t : model.parameter_table())
      for (const auto& slot : slots) {
        auto& [name, tensor] = training.tensors.emplace_back(t.name + "/" + slot, Tensor(t.shape));
        expected.push_back({name, t.shape, tensor.data()});
      }
  }
  read_tensors(file, "/optimizer", expected);
  return training;
}

}  // namespace

void save_checkpoint(const std::string& path, const Model& model, const TrainingState& training, const DataState& data) {
  write_weft_file(path, checkpoint_format, checkpoint_format_version, model, data, [&](H5File& file) {
    write_optimizer(file, model, training);
    write_training(file, training);
    if (training.early_stopping) write_early_stopping(file, model, *training.early_stopping);
  });
}

Checkpoint load_checkpoint(const std::string& path) {
  H5File file(path, 'r');
  check_format(file, {{checkpoint_format, checkpoint_format_version, "checkpoint"}});
  Model model = read_model_parts(file);
  TrainingState training = read_training(file, model);
  DataState data = read_data(file);
  training.early_stopping = read_early_stopping(file, model);
  return {std::move(model), std::move(training), std::move(data)};
}

}  // namespace weft::io
