#include "weft/training_config.hpp"

#include <array>

#include "weft/registry.hpp"

namespace weft {
namespace {

const Json training_defaults = {{"batch", 128},           {"epochs", 1},          {"shuffle", true},
                                {"accumulate", 1},        {"clip_norm", nullptr}, {"clip_value", nullptr},
                                {"schedule", nullptr},    {"validation_split", 0.0}, {"early_stopping", nullptr}};

const Json early_stopping_defaults = {
    {"monitor", "val_loss"}, {"patience", 5}, {"min_delta", 0.0}, {"mode", "auto"}, {"restore_best", true}};

// resolve_config treats null as "required"; here null means "off", so defaults are merged by hand.
// `also`: settings accepted without a default (named in the error for an unknown one).
Json merge_over(const Json& spec, const Json& defaults, const std::string& context,
                std::initializer_list<const char*> also = {}) {
  if (!spec.is_object()) throw SpecError(context + ": expected an object of settings, got " + describe(spec));
  std::vector<std::string> known;
  for (const auto& [k, _] : defaults.items()) known.push_back(k);
  known.insert(known.end(), also.begin(), also.end());
  Json out = defaults;
  for (const auto& [key, value] : spec.items()) {
    if (!defaults.contains(key))
      throw SpecError(context + ": unknown setting '" + key + "'; accepted settings: " + join_names(known));
    out[key] = value;
  }
  return out;
}

}  // namespace

Json resolve_schedule(const Json& schedule) {
  if (schedule.is_null()) return schedule;
  Json object = schedule.is_string() ? Json{{"type", schedule}} : schedule;
  if (!object.is_object()) throw SpecError("training: schedule: expected an object with a \"type\", got " + describe(schedule));
  const Json unit = object.contains("unit") ? object["unit"] : Json("epoch");
  if (unit != "epoch" && unit != "step")
    throw SpecError("training: schedule: 'unit' must be one of \"epoch\" \"step\", got " + describe(unit));
  constexpr std::array<std::string_view, 1> extra = {"unit"};
  auto built = registry().schedules.create(object, "training: schedule", extra);
  built.config["unit"] = unit;
  return built.config;
}

Json resolve_early_stopping(const Json& settings) {
  Json out = merge_over(settings, early_stopping_defaults, "training: early_stopping");
  const Config c("training: early_stopping", out);
  (void)c.string("monitor");
  (void)c.integer("patience", 0);
  (void)c.number("min_delta", 0);
  (void)c.choice("mode", {"auto", "min", "max"});
  (void)c.boolean("restore_best");
  return out;
}

Json resolve_training(const Json& training) {
  Json rest = training;
  Json datasets;
  if (rest.is_object() && rest.contains("datasets")) {
    datasets = rest["datasets"];
    rest.erase("datasets");
    bool valid = datasets.is_object() && !datasets.empty();
    for (const auto& [input, dataset] : valid ? datasets.items() : Json::object().items())
      valid = valid && dataset.is_string() && !dataset.get<std::string>().empty();
    if (!valid)
      throw SpecError("training: 'datasets' must map model input names to HDF5 dataset names, such as "
                      "{\"image\": \"images\", \"meta\": \"features\"}, got " + describe(datasets));
  }
  Json out = merge_over(rest, training_defaults, "training", {"datasets"});
  if (!datasets.is_null()) out["datasets"] = datasets;
  const Config c("training", out);
  if (!(out["batch"].is_string() && out["batch"] == "full")) (void)c.integer("batch", 1);
  if (out["batch"].is_string() && out["batch"] != "full") c.fail("batch", "an integer >= 1 or \"full\"");
  (void)c.integer("epochs", 1);
  (void)c.boolean("shuffle");
  (void)c.integer("accumulate", 1);
  if (c.has("clip_norm")) (void)c.number("clip_norm", 0, std::numeric_limits<double>::infinity(), true);
  if (c.has("clip_value")) (void)c.number("clip_value", 0, std::numeric_limits<double>::infinity(), true);
  const double split = c.number("validation_split", 0, 1);
  if (split >= 1) c.fail("validation_split", "a fraction in [0, 1)");
  out["schedule"] = resolve_schedule(out["schedule"]);
  if (!out["early_stopping"].is_null()) out["early_stopping"] = resolve_early_stopping(out["early_stopping"]);
  return out;
}

}  // namespace weft
