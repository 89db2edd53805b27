#include "training_data.hpp"

#include <filesystem>
#include <tuple>

#include "weft/io/csv.hpp"
#include "weft/io/hdf5_dataset.hpp"
#include "weft/io/idx.hpp"
#include "weft/io/normalization.hpp"
#include "weft/trainer.hpp"

namespace weft::cli {
namespace {

bool has_extension(const std::string& path, std::initializer_list<const char*> extensions) {
  const auto ext = std::filesystem::path(path).extension().string();
  for (const char* e : extensions)
    if (ext == e) return true;
  return false;
}

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

}  // namespace

void add_data_options(CLI::App& command, DataArgs& a) {
  command.add_option("--data", a.data, "an IDX folder ({train,t10k}-{images,labels}-idx*-ubyte[.gz]), a .csv or an .h5 file")
      ->capture_default_str();
  command.add_option("--label", a.label, "CSV: the target column, by name or 0-based index (default: the last)");
  command.add_flag("--regression", a.regression, "CSV: targets are numbers, not classes");
  command.add_option("--features", a.features, "HDF5: the dataset of inputs (n, ...)")->capture_default_str();
  command.add_option("--labels", a.labels, "HDF5: the dataset of targets")->capture_default_str();
  command.add_option("--normalize", a.normalize, "none, standardize (per feature, from the training set) or scale:F")
      ->capture_default_str();
}

TrainingData load_training_data(const DataArgs& a, const Shape& input, std::uint64_t seed) {
  auto normalization = io::Normalization::parse(a.normalize);
  TrainingData out;
  Json& settings = out.prepared.settings;
  if (has_extension(a.data, {".csv"})) {
    io::CsvOptions options;
    options.label = a.label;
    options.regression = a.regression;
    auto csv = io::read_csv(a.data, options);
    out.train = std::move(csv.data);
    settings["features"] = csv.features;
    settings["label"] = csv.label;
    if (!csv.classes.empty()) settings["classes"] = csv.classes;
  } else if (has_extension(a.data, {".h5", ".hdf5"})) {
    out.train = io::read_hdf5_dataset(a.data, a.features, a.labels);
  } else {
    out.train = io::load_idx_dataset(a.data, "train", input);
    out.test = io::load_idx_dataset(a.data, "t10k", input);
  }
  if (a.validation_split > 0) {
    std::tie(out.train, out.validation) = split_validation(out.train, a.validation_split, seed);
  }
  check_features(out.train, input);
  normalization.fit(out.train.x);
  normalization.apply(out.train.x);
  normalization.apply(out.validation.x);
  normalization.apply(out.test.x);
  normalization.to_state(out.prepared);
  for (Dataset* d : {&out.train, &out.validation, &out.test}) reshape_features(*d, input);
  return out;
}

}  // namespace weft::cli
