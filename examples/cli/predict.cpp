// weft predict MODEL.h5 --input FILE [-o OUT.csv]: the model's outputs for every row of a CSV
// file (or every sample of an HDF5 dataset, streamed, or of an IDX file) as CSV: class probabilities for a classifier, outputs for
// a regression model. Inputs are prepared as in training (the stored normalisation).
// A model with several inputs reads an HDF5 file, one dataset per input: the mapping stored
// with the model, or --input NAME=DATASET next to --input FILE.h5.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>

#include "commands.hpp"
#include "number_checks.hpp"
#include "training_data.hpp"
#include "weft/io/csv.hpp"
#include "weft/io/hdf5_dataset.hpp"
#include "weft/io/idx.hpp"
#include "weft/io/model_file.hpp"
#include "weft/io/normalization.hpp"
#include "weft/trainer.hpp"

namespace weft::cli {
namespace {

struct PredictArgs {
  std::vector<std::string> inputs;  // the file, and NAME=DATASET mappings
  std::string model, input, out, features = "features";
  int threads = 0;
};

// CSV inputs: the columns the model was trained on, by name when the names were stored (so a
// file that still has its label column works), otherwise every column.
Tensor csv_inputs(const std::string& path, const io::DataState& data) {
  io::CsvOptions options;
  options.labeled = false;
  auto csv = io::read_csv(path, options);
  const Json& names = data.settings.contains("features") ? data.settings["features"] : Json();
  if (!names.is_array()) return std::move(csv.data.x);
  const auto n = csv.data.size();
  const auto columns = static_cast<std::int64_t>(csv.features.size());
  Tensor x(Shape{n, static_cast<std::int64_t>(names.size())});
  for (std::size_t f = 0; f < names.size(); ++f) {
    const auto it = std::find(csv.features.begin(), csv.features.end(), names[f].get<std::string>());
    if (it == csv.features.end())
      throw IoError("'" + path + "' has no column '" + names[f].get<std::string>() + "', which the model was trained on");
    const auto c = it - csv.features.begin();
    for (std::int64_t i = 0; i < n; ++i)
      x[static_cast<std::size_t>(i) * names.size() + f] = csv.data.x[static_cast<std::size_t>(i * columns + c)];
  }
  return x;
}

Tensor idx_inputs(const std::string& path) {
  unsigned char type = 0;
  Tensor x = io::read_idx(path, &type);
  if (type == 0x08)  // bytes: scaled to [0, 1] as load_idx_dataset does for training
    for (auto& v : x.span()) v /= 255.0f;
  return x;
}

// Probabilities from the raw outputs, as the loss interprets them.
void to_probabilities(const std::string& loss, Tensor& y, std::int64_t width) {
  const auto rows = static_cast<std::int64_t>(y.size()) / width;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = y.data() + r * width;
    if (loss == "cross_entropy") {
      double top = row[0], sum = 0;
      for (std::int64_t k = 1; k < width; ++k) top = std::max<double>(top, row[k]);
      for (std::int64_t k = 0; k < width; ++k) sum += std::exp(row[k] - top);
      for (std::int64_t k = 0; k < width; ++k) row[k] = static_cast<float>(std::exp(row[k] - top) / sum);
    } else if (loss == "nll") {
      for (std::int64_t k = 0; k < width; ++k) row[k] = std::exp(row[k]);
    } else if (loss == "binary_cross_entropy") {
      for (std::int64_t k = 0; k < width; ++k) row[k] = static_cast<float>(1 / (1 + std::exp(-double(row[k]))));
    }
  }
}

// Splits --input values into the file and NAME=DATASET mappings (NAME: a model input).
void split_inputs(PredictArgs& a, const Model& model) {
  std::vector<std::string> files, mappings;
  for (const auto& v : a.inputs) {
    const auto eq = v.find('=');
    bool names_input = false;
    for (std::size_t i = 0; i < model.input_count() && eq != std::string::npos; ++i)
      names_input = names_input || model.input_name(i) == v.substr(0, eq);
    (names_input ? mappings : files).push_back(v);
  }
  if (files.size() != 1)
    throw Error(files.empty() ? "--input: give the file of samples (--input FILE), not only NAME=DATASET mappings"
                              : "--input: one file of samples, got '" + files[0] + "' and '" + files[1] +
                                    "' (a NAME=DATASET mapping must name a model input: " + [&] {
                                      std::string names;
                                      for (std::size_t i = 0; i < model.input_count(); ++i)
                                        names += (i ? ", " : "") + model.input_name(i);
                                      return names;
                                    }() + ")");
  a.input = files[0];
  a.inputs = mappings;
}

// Predictions for a several-input model: each input's dataset slab by slab.
void emit_several(const PredictArgs& a, const SavedModel& saved, Trainer& trainer,
                  const std::function<void(const Tensor&)>& write_rows) {
  if (!(a.input.ends_with(".h5") || a.input.ends_with(".hdf5")))
    throw Error("the model has " + std::to_string(saved.model.input_count()) +
                " inputs: --input must be an HDF5 file with one dataset per input, got '" + a.input + "'");
  const Json stored = saved.data.settings.contains("datasets") ? saved.data.settings["datasets"] : Json();
  const Json& training = saved.model.spec().contains("training") ? saved.model.spec()["training"] : Json();
  const Json base = !stored.is_null() ? stored : training.is_object() && training.contains("datasets") ? training["datasets"] : Json();
  std::vector<io::Hdf5Rows> rows;
  std::vector<Shape> shapes;
  std::string first_dataset;
  for (const auto& in : input_datasets(a.inputs, base, saved.model)) {
    try {
      rows.emplace_back(a.input, in.dataset);
    } catch (const IoError& e) {
      throw IoError(std::string(e.what()) + " (mapped to model input '" + in.input + "')");
    }
    if (rows.back().sample_shape().numel() != in.shape.numel())
      throw ShapeError("HDF5 file '" + a.input + "': dataset '" + in.dataset + "' has samples of shape " +
                       rows.back().sample_shape().str() + "; model input '" + in.input + "' takes " + in.shape.str());
    if (rows.back().size() != rows[0].size())
      throw IoError("HDF5 file '" + a.input + "': '" + in.dataset + "' has " + std::to_string(rows.back().size()) +
                    " samples but '" + first_dataset + "' has " + std::to_string(rows[0].size()));
    if (rows.size() == 1) first_dataset = in.dataset;
    shapes.push_back(in.shape);
  }
  constexpr std::int64_t block = 4096;
  for (std::int64_t begin = 0; begin < rows[0].size(); begin += block) {
    const std::int64_t n = std::min(block, rows[0].size() - begin);
    std::vector<Tensor> xs;
    std::vector<ConstView> views;
    for (std::size_t k = 0; k < rows.size(); ++k) {
      xs.push_back(rows[k].read(begin, n));
      saved.normalizations[k].apply(xs.back());  // each input by its own statistics
    }
    for (std::size_t k = 0; k < rows.size(); ++k) views.push_back(ConstView(xs[k].view()).reshaped(shapes[k].with_batch(n)));
    write_rows(trainer.predict(views));
  }
}

int run(PredictArgs& a) {
  SavedModel saved = load_saved_model(a.model);
  split_inputs(a, saved.model);
  const Model& model = saved.model;
  const io::DataState& data = saved.data;
  const io::Normalization& normalization = saved.normalizations[0];
  TrainOptions options;
  options.threads = a.threads;
  Trainer trainer(saved.model, options);
  const Shape& in = model.input_shape();
  const std::int64_t width = model.output_shape().numel();
  const std::string loss = model.spec()["loss"].value("type", "");
  const bool classes = loss == "cross_entropy" || loss == "nll" || loss == "binary_cross_entropy";

  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out);
    if (!file) throw IoError("cannot write '" + a.out + "'");
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  const Json& names = data.settings.contains("classes") ? data.settings["classes"] : Json();
  for (std::int64_t k = 0; k < width; ++k) {
    if (k) out << ',';
    if (classes && names.is_array() && names.size() == static_cast<std::size_t>(width)) out << names[k].get<std::string>();
    else out << (classes ? "p_" : "y_") << k;
  }
  out << '\n';

  // Appends the rows of one block of predictions.
  auto write_rows = [&](Tensor y) {
    const std::int64_t n = static_cast<std::int64_t>(y.size()) / width;
    if (classes) to_probabilities(loss, y, width);
    char number[32];
    for (std::int64_t r = 0; r < n; ++r) {
      for (std::int64_t k = 0; k < width; ++k) {
        std::snprintf(number, sizeof number, "%.9g", static_cast<double>(y[static_cast<std::size_t>(r * width + k)]));
        out << (k ? "," : "") << number;
      }
      out << '\n';
    }
  };
  // Predicts one block of samples and appends its rows.
  auto emit = [&](Tensor x) {
    normalization.apply(x);
    const auto n = x.shape().rank() ? x.shape()[0] : 0;
    if (n == 0) return;
    if (x.shape().numel() / n != in.numel())
      throw ShapeError("'" + a.input + "' has samples of shape " + x.shape().without_batch().str() + "; the model takes " +
                       in.str());
    write_rows(trainer.predict(ConstView(x.view()).reshaped(in.with_batch(n))));
  };
  if (model.input_count() > 1) {
    emit_several(a, saved, trainer, [&](const Tensor& y) { write_rows(y); });
  } else if (!a.inputs.empty() && !(a.input.ends_with(".h5") || a.input.ends_with(".hdf5"))) {
    throw Error("--input " + a.inputs[0] + ": NAME=DATASET names a dataset of an HDF5 file; '" + a.input + "' is not one");
  } else if (a.input.ends_with(".h5") || a.input.ends_with(".hdf5")) {
    // Slab by slab: the input never has to fit in memory.
    const auto mapped = input_datasets(a.inputs, Json(), model);  // --input input=DATASET
    const io::Hdf5Rows rows(a.input, mapped.empty() ? a.features : mapped[0].dataset);
    constexpr std::int64_t block = 4096;
    for (std::int64_t begin = 0; begin < rows.size(); begin += block)
      emit(rows.read(begin, std::min(block, rows.size() - begin)));
  } else if (a.input.ends_with(".csv")) {
    emit(csv_inputs(a.input, data));
  } else {
    emit(idx_inputs(a.input));
  }
  if (!out) throw IoError("writing the predictions failed" + (a.out.empty() ? "" : " ('" + a.out + "')"));
  return 0;
}

}  // namespace

Command add_predict(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  auto* pr = app.add_subcommand("predict", "write a model's predictions for a CSV, HDF5 or IDX file as CSV");
  pr->add_option("model", args->model, "model file or checkpoint (HDF5)")->required();
  pr->add_option("--input", args->inputs,
                 "samples: a .csv file (header, feature columns), an .h5 file or an IDX file; for a model with several "
                 "inputs also NAME=DATASET, the dataset each input reads (default: the mapping saved with the model)")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  pr->add_option("--features", args->features, "HDF5 input: the dataset of samples")->capture_default_str();
  pr->add_option("-o,--out", args->out, "write the CSV here instead of to standard output");
  pr->add_option("--threads", args->threads, "worker threads (0: all cores)")->check(non_negative_number);
  return [args] { return run(*args); };
}

}  // namespace weft::cli
