#include "checkpoint_early_stopping.hpp"

#include "model_file_parts.hpp"

namespace weft::io {
namespace {

constexpr const char* group = "/early_stopping";
// The counters, each an integer attribute of the group (and a key of EarlyStoppingState::json).
constexpr const char* counters[] = {"best_epoch", "wait", "epochs_seen"};

// One tensor per entry of `table`, named as in /weights and /buffers, viewing `flat`.
std::vector<ExpectedTensor> expect(const std::vector<NamedTensor>& table, std::vector<float>& flat, std::size_t size) {
  flat.assign(size, 0.0f);
  std::vector<ExpectedTensor> out;
  for (const auto& t : table) out.push_back({t.name, t.shape, flat.data() + t.offset});
  return out;
}

}  // namespace

void write_early_stopping(H5File& file, const Model& model, const EarlyStoppingState& state) {
  const Json& j = state.json;
  file.make_groups(std::string(group) + "/weights");
  file.make_groups(std::string(group) + "/buffers");
  file.set_string_attribute(group, "monitor", j.at("monitor").get<std::string>());
  file.set_double_attribute(group, "best", j.at("best").get<double>());
  for (const char* key : counters) file.set_int_attribute(group, key, j.at(key).get<std::int64_t>());
  const bool has_weights = !state.best_parameters.empty();
  file.set_int_attribute(group, "has_best_weights", has_weights ? 1 : 0);
  if (!has_weights) return;
  for (const auto& t : model.parameter_table())
    file.write_floats(std::string(group) + "/weights/" + t.name, t.shape, state.best_parameters.data() + t.offset);
  for (const auto& t : model.buffer_table())
    file.write_floats(std::string(group) + "/buffers/" + t.name, t.shape, state.best_buffers.data() + t.offset);
}

std::optional<EarlyStoppingState> read_early_stopping(const H5File& file, const Model& model) {
  if (!file.exists(group)) return std::nullopt;
  EarlyStoppingState state;
  state.json["monitor"] = file.string_attribute(group, "monitor");
  state.json["best"] = file.double_attribute(group, "best");
  for (const char* key : counters) state.json[key] = file.int_attribute(group, key);
  const std::int64_t has_weights = file.int_attribute(group, "has_best_weights");
  if (has_weights != 0 && has_weights != 1)
    throw IoError("'" + file.path() + "': attribute 'has_best_weights' on '" + group + "' is " +
                  std::to_string(has_weights) + ", expected 0 or 1");
  // Without weights, expecting no tensors makes any stray dataset an error.
  std::vector<float> parameters, buffers;
  auto weights = expect(model.parameter_table(), parameters, model.parameters().size());
  auto buffer_tensors = expect(model.buffer_table(), buffers, model.buffers().size());
  if (!has_weights) {
    weights.clear();
    buffer_tensors.clear();
  }
  read_tensors(file, std::string(group) + "/weights", weights);
  read_tensors(file, std::string(group) + "/buffers", buffer_tensors);
  if (has_weights) {
    state.best_parameters = std::move(parameters);
    state.best_buffers = std::move(buffers);
  }
  return state;
}

}  // namespace weft::io
