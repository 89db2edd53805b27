#include "training_data.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "weft/io/csv.hpp"
#include "weft/io/hdf5_dataset.hpp"
#include "weft/io/hdf5_source.hpp"
#include "weft/io/idx.hpp"
#include "weft/trainer.hpp"

namespace weft::cli {
namespace {

bool has_extension(const std::string& path, std::initializer_list<const char*> extensions) {
  const auto ext = std::filesystem::path(path).extension().string();
  for (const char* e : extensions)
    if (ext == e) return true;
  return false;
}

bool is_hdf5(const std::string& path) { return has_extension(path, {".h5", ".hdf5"}); }

void check_features(const Dataset& d, const Shape& input) {
  const auto n = d.size();
  if (n > 0 && d.x.shape().numel() / n != input.numel())
    throw ShapeError("'" + d.name + "' has samples of shape " + d.x.shape().without_batch().str() + " (" +
                     std::to_string(d.x.shape().numel() / n) + " values); the model takes " + input.str());
}

// Gives the features the model's input shape (a CSV row of 784 values for input (1, 28, 28)).
void reshape_features(Dataset& d, const Shape& input) {
  if (d.size() > 0) d.x.resize(input.with_batch(d.size()));
}

std::unique_ptr<DataSource> owned(Dataset d) {
  if (d.size() == 0) return nullptr;
  return std::make_unique<OwnedInMemorySource>(std::move(d));
}

std::int64_t budget_bytes(const DataArgs& a) {
  if (!(a.memory_budget_mb > 0)) throw Error("--memory-budget must be a positive number of MB");
  return static_cast<std::int64_t>(a.memory_budget_mb * 1024 * 1024);
}

// How to stream `a.data` for a model input of shape `input`, or (several inputs) its `inputs`.
io::Hdf5SourceOptions stream_options(const DataArgs& a, const Shape& input, const std::vector<io::Hdf5Input>& inputs) {
  io::Hdf5SourceOptions o;
  o.features = a.features;
  o.labels = a.labels;
  o.sample_shape = input;
  if (inputs.size() > 1) o.inputs = inputs;
  return o;
}

// Rows per window of an HDF5 file within the budget, and its rows (opening it checks the
// datasets and the feature shapes).
std::pair<std::int64_t, std::int64_t> budget_window(const DataArgs& a, const io::Hdf5SourceOptions& o) {
  const io::Hdf5Source whole(a.data, o);
  std::int64_t values = 0;  // features per row, every input's
  for (std::size_t i = 0; i < whole.input_count(); ++i) values += whole.input_shape(i).numel();
  return {io::window_rows_for(budget_bytes(a), Shape{values}, whole.target_shape()), whole.rows()};
}

// Whether an HDF5 file is to be streamed (0: no), and with how many rows per window. Several
// inputs always go through the streaming source (one window when the file fits the budget).
std::int64_t streaming_window(const DataArgs& a, const io::Hdf5SourceOptions& o) {
  const auto [window, rows] = budget_window(a, o);
  return a.stream || rows > window || !o.inputs.empty() ? window : 0;
}

std::string input_names(const Model& model) {
  std::string names;
  for (std::size_t i = 0; i < model.input_count(); ++i) names += (i ? ", " : "") + model.input_name(i);
  return names;
}

// The mapping to start from: the one stored with a trained model, else the spec's.
Json base_mapping(const Model& model, const io::DataState* stored) {
  if (stored && stored->settings.is_object() && stored->settings.contains("datasets")) return stored->settings["datasets"];
  const Json& training = model.spec().contains("training") ? model.spec()["training"] : Json();
  return training.is_object() && training.contains("datasets") ? training["datasets"] : Json();
}

// The input mapping for `a.data`, checked: several inputs need an HDF5 file, and so does --input.
std::vector<io::Hdf5Input> checked_mapping(const DataArgs& a, const Model& model, const io::DataState* stored) {
  if (!is_hdf5(a.data)) {
    if (model.input_count() > 1)
      throw Error("the model has " + std::to_string(model.input_count()) + " inputs (" + input_names(model) +
                  "): --data must be an HDF5 file with one dataset per input, got '" + a.data + "'");
    if (!a.inputs.empty())
      throw Error("--input " + a.inputs[0] + ": --input maps model inputs to datasets of an HDF5 file; --data '" + a.data +
                  "' is not one (.h5, .hdf5)");
    return {};
  }
  return input_datasets(a.inputs, base_mapping(model, stored), model);
}

// `a` with a one-input model's mapped dataset as --features.
DataArgs with_mapped_features(DataArgs a, const std::vector<io::Hdf5Input>& mapping) {
  if (mapping.size() == 1) a.features = mapping[0].dataset;
  return a;
}

void store_mapping(const std::vector<io::Hdf5Input>& mapping, io::DataState& prepared) {
  if (mapping.empty()) return;
  Json datasets = Json::object();
  for (const auto& m : mapping) datasets[m.input] = m.dataset;
  prepared.settings["datasets"] = datasets;
}

// One streaming pass over the training part: each input's per-feature moments.
std::vector<io::FeatureMoments> streamed_moments(const DataSource& train, std::int64_t block) {
  std::vector<io::FeatureMoments> moments(train.input_count());
  const auto reader = train.open({}, 0);
  std::vector<Tensor> xs(train.input_count());
  Tensor y;
  while (reader->read_inputs(block, 0, block, xs, y) > 0)
    for (std::size_t k = 0; k < xs.size(); ++k) moments[k].add(xs[k]);
  return moments;
}

TrainingData streamed_hdf5(const DataArgs& a, io::Hdf5SourceOptions o, std::uint64_t seed, io::Normalization normalization,
                           std::int64_t window) {
  o.window_rows = window;
  if (a.validation_split > 0) {
    if (!(a.validation_split < 1))
      throw Error("the validation split must be a fraction in (0, 1), got " + std::to_string(a.validation_split));
    o.split = {a.validation_split, seed, false};
  }
  // Several inputs: each normalised by its own statistics, from its dataset's training rows.
  std::vector<io::Normalization> each(std::max<std::size_t>(o.inputs.size(), 1), normalization);
  if (normalization.kind() == "standardize") {
    const auto moments = streamed_moments(io::Hdf5Source(a.data, o), std::min<std::int64_t>(window, 4096));
    for (std::size_t k = 0; k < each.size(); ++k) each[k].fit(moments[k]);
  }
  if (o.inputs.empty()) o.prepare = [n = each[0]](Tensor& x) { n.apply(x); };
  for (std::size_t k = 0; k < o.inputs.size(); ++k) o.inputs[k].prepare = [n = each[k]](Tensor& x) { n.apply(x); };
  TrainingData out;
  out.window_rows = window;
  out.train = std::make_unique<io::Hdf5Source>(a.data, o);
  if (a.validation_split > 0) {
    o.split.held_out = true;
    out.validation = std::make_unique<io::Hdf5Source>(a.data, o);
    if (out.train->size() == 0 || out.validation->size() == 0)
      throw Error("a validation split of " + std::to_string(a.validation_split) + " leaves " +
                  (out.train->size() == 0 ? "nothing to train on" : "nothing to validate on") + " in the " +
                  std::to_string(out.train->size() + out.validation->size()) + " rows of '" + a.data + "'");
  }
  for (std::size_t k = 0; k < each.size(); ++k) each[k].to_state(out.prepared, o.inputs.empty() ? "" : o.inputs[k].input);
  out.prepared.settings["stream_window_rows"] = window;
  return out;
}

}  // namespace

std::vector<io::Hdf5Input> input_datasets(const std::vector<std::string>& flags, const Json& base, const Model& model) {
  std::map<std::string, std::string> chosen;  // model input -> dataset
  if (base.is_object())
    for (const auto& [input, dataset] : base.items()) chosen[input] = dataset.get<std::string>();
  const auto has_input = [&](const std::string& name) {
    for (std::size_t i = 0; i < model.input_count(); ++i)
      if (model.input_name(i) == name) return true;
    return false;
  };
  std::set<std::string> given;
  for (const auto& flag : flags) {
    const auto eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size())
      throw Error("--input '" + flag + "': expected NAME=DATASET, a model input and the HDF5 dataset it reads (e.g. --input image=images)");
    const std::string name = flag.substr(0, eq);
    if (!has_input(name))
      throw Error("--input " + flag + ": the model has no input '" + name + "' (its inputs: " + input_names(model) + ")");
    if (!given.insert(name).second) throw Error("--input " + name + "=...: given twice; map each model input once");
    chosen[name] = flag.substr(eq + 1);
  }
  std::vector<io::Hdf5Input> out;
  if (chosen.empty() && model.input_count() == 1) return out;
  for (std::size_t i = 0; i < model.input_count(); ++i) {
    const auto found = chosen.find(model.input_name(i));
    if (found == chosen.end())
      throw Error("model input '" + model.input_name(i) + "' has no dataset: map one with --input " + model.input_name(i) +
                  "=DATASET (or in the spec's \"training\": {\"datasets\": {...}})");
    out.push_back({model.input_name(i), found->second, model.input_shape(i)});
  }
  return out;
}

void add_input_option(CLI::App& command, DataArgs& a) {
  command
      .add_option("--input", a.inputs,
                  "HDF5: NAME=DATASET, the dataset a model input reads (repeatable; a model with several inputs needs "
                  "one per input unless its spec or saved file maps them)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void add_data_options(CLI::App& command, DataArgs& a) {
  command.add_option("--data", a.data, "an IDX folder ({train,t10k}-{images,labels}-idx*-ubyte[.gz]), a .csv or an .h5 file")
      ->capture_default_str();
  command.add_option("--label", a.label, "CSV: the target column, by name or 0-based index (default: the last)");
  command.add_flag("--regression", a.regression, "CSV: targets are numbers, not classes");
  command.add_option("--features", a.features, "HDF5: the dataset of inputs (n, ...)")->capture_default_str();
  command.add_option("--labels", a.labels, "HDF5: the dataset of targets")->capture_default_str();
  command.add_option("--normalize", a.normalize, "none, standardize (per feature, from the training set) or scale:F")
      ->capture_default_str();
  command.add_flag("--stream", a.stream, "HDF5: stream from disk a window at a time even when the file fits the budget");
  command.add_option("--memory-budget", a.memory_budget_mb,
                     "HDF5: MB of samples to hold; a larger file is streamed in windows of this size")
      ->capture_default_str();
  add_input_option(command, a);
}

TrainingData load_training_data(const DataArgs& given, const Model& model, std::uint64_t seed) {
  const auto mapping = checked_mapping(given, model, nullptr);
  const DataArgs a = with_mapped_features(given, mapping);
  const Shape& input = model.input_shape();
  auto normalization = io::Normalization::parse(a.normalize);
  if (is_hdf5(a.data)) {
    const auto o = stream_options(a, input, mapping);
    if (const std::int64_t window = streaming_window(a, o)) {
      TrainingData out = streamed_hdf5(a, o, seed, normalization, window);
      store_mapping(mapping, out.prepared);
      return out;
    }
  }
  Dataset train, validation, test;
  io::DataState prepared;
  Json& settings = prepared.settings;
  if (has_extension(a.data, {".csv"})) {
    io::CsvOptions options;
    options.label = a.label;
    options.regression = a.regression;
    auto csv = io::read_csv(a.data, options);
    train = std::move(csv.data);
    settings["features"] = csv.features;
    settings["label"] = csv.label;
    if (!csv.classes.empty()) settings["classes"] = csv.classes;
  } else if (is_hdf5(a.data)) {
    train = io::read_hdf5_dataset(a.data, a.features, a.labels);
  } else {
    train = io::load_idx_dataset(a.data, "train", input);
    test = io::load_idx_dataset(a.data, "t10k", input);
  }
  if (a.validation_split > 0) std::tie(train, validation) = split_validation(train, a.validation_split, seed);
  check_features(train, input);
  normalization.fit(train.x);
  normalization.apply(train.x);
  normalization.apply(validation.x);
  normalization.apply(test.x);
  normalization.to_state(prepared);
  store_mapping(mapping, prepared);
  for (Dataset* d : {&train, &validation, &test}) reshape_features(*d, input);
  TrainingData out;
  out.train = std::make_unique<OwnedInMemorySource>(std::move(train));
  out.validation = owned(std::move(validation));
  out.test = owned(std::move(test));
  out.prepared = std::move(prepared);
  return out;
}

SavedModel load_saved_model(const std::string& path) {
  Model model = io::load_model(path);
  io::DataState data = io::load_data_state(path);
  std::vector<io::Normalization> normalizations;
  for (std::size_t k = 0; k < model.input_count(); ++k)  // several inputs: each its own statistics
    normalizations.push_back(io::Normalization::from_state(data, model.input_count() > 1 ? model.input_name(k) : ""));
  return {std::move(model), std::move(data), std::move(normalizations)};
}

std::unique_ptr<DataSource> open_evaluation_data(const DataArgs& given, const SavedModel& saved) {
  const auto mapping = checked_mapping(given, saved.model, &saved.data);
  const DataArgs a = with_mapped_features(given, mapping);
  const Shape& input = saved.model.input_shape();
  if (is_hdf5(a.data)) {
    io::Hdf5SourceOptions o = stream_options(a, input, mapping);
    o.window_rows = budget_window(a, o).first;
    o.prepare = [normalization = saved.normalizations[0]](Tensor& x) { normalization.apply(x); };
    for (std::size_t k = 0; k < o.inputs.size(); ++k)
      o.inputs[k].prepare = [normalization = saved.normalizations[k]](Tensor& x) { normalization.apply(x); };
    return std::make_unique<io::Hdf5Source>(a.data, o);
  }
  Dataset test = io::load_idx_dataset(a.data, "t10k", input);
  saved.normalizations[0].apply(test.x);
  return std::make_unique<OwnedInMemorySource>(std::move(test));
}

}  // namespace weft::cli
