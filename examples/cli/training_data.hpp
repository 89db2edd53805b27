#pragma once
// `--data` for weft train: an IDX folder (train and t10k files), a CSV file or an HDF5 file,
// with normalisation and a seeded validation split; and how the data was prepared, to store with
// the model so that evaluate and predict prepare inputs the same way.
//
// An HDF5 file is streamed from disk (io::Hdf5Source, a window of rows at a time) when its rows
// take more than --memory-budget MB as float32, or always with --stream; otherwise it is read
// whole, like CSV and IDX data.
//
// A model with several inputs reads an HDF5 file with one dataset per input: `--input
// NAME=DATASET` (repeatable) over the spec's "training": {"datasets": {...}}; evaluate and
// predict start from the mapping stored with the model. Such a file always goes through
// io::Hdf5Source, in windows of the memory budget (one window, a full shuffle, when it fits).
#include <memory>
#include <string>

#include "commands.hpp"
#include "weft/data_source.hpp"
#include "weft/io/hdf5_source.hpp"
#include "weft/io/model_file.hpp"
#include "weft/io/normalization.hpp"
#include "weft/model.hpp"
#include "weft/shape.hpp"

namespace weft::cli {

struct DataArgs {
  std::string data = default_data_dir;
  std::string label;                 // CSV: the target column (name or index); default the last
  bool regression = false;           // CSV: numeric targets
  std::string features = "features";  // HDF5: dataset of inputs (n, ...)
  std::string labels = "labels";      // HDF5: dataset of targets (n) or (n, ...)
  std::string normalize = "none";    // none | standardize | scale:F
  double validation_split = 0;       // fraction of the training data held out (seeded)
  bool stream = false;               // HDF5: stream even when the file fits the budget
  double memory_budget_mb = 256;     // HDF5: stream beyond this; the size of one window
  std::vector<std::string> inputs;   // HDF5: --input NAME=DATASET, the dataset of a model input
};

// Adds the repeatable --input NAME=DATASET to `command` (train and evaluate).
void add_input_option(CLI::App& command, DataArgs& args);

// The dataset of each model input, in the model's input order: `base` (a {"name": "dataset"}
// object: the spec's or the stored mapping; null: none) with the --input flags written over it.
// Empty for a one-input model without a mapping. Throws Error for a malformed or repeated flag,
// a name the model has no input for, or (several inputs) an input left without a dataset.
std::vector<io::Hdf5Input> input_datasets(const std::vector<std::string>& flags, const Json& base, const Model& model);

// Adds --data and its companions (--validation-split belongs to the training settings).
void add_data_options(CLI::App& command, DataArgs& args);

struct TrainingData {
  std::unique_ptr<DataSource> train;
  std::unique_ptr<DataSource> validation;  // the seeded split (null without one)
  std::unique_ptr<DataSource> test;        // IDX: the t10k files; CSV and HDF5: null
  io::DataState prepared;                  // normalisation, feature and class names, stream window
  std::int64_t window_rows = 0;            // streamed: rows per window; in memory: 0
};

// Loads (or opens for streaming), splits (seed), fits the normalisation on the training part and
// applies it to every part. Throws naming the file and the problem, or a feature shape that does
// not fit `input`.
TrainingData load_training_data(const DataArgs& args, const Model& model, std::uint64_t seed);

// A saved model (model file or checkpoint) with the data preparation stored with it: what
// evaluate and predict start from.
struct SavedModel {
  Model model;
  io::DataState data;
  std::vector<io::Normalization> normalizations;  // one per model input, in the model's order
};
SavedModel load_saved_model(const std::string& path);

// Labelled samples to evaluate `saved` on, prepared as it was trained: the t10k files of an IDX
// folder, or every row of an HDF5 file (streamed, a window of at most the budget at a time).
std::unique_ptr<DataSource> open_evaluation_data(const DataArgs& args, const SavedModel& saved);

}  // namespace weft::cli
