#pragma once
// `--data` for weft train: an IDX folder (train and t10k files), a CSV file or an HDF5 file,
// with normalisation and a seeded validation split; and how the data was prepared, to store with
// the model so that predict prepares inputs the same way.
#include <string>

#include "commands.hpp"
#include "weft/dataset.hpp"
#include "weft/io/model_file.hpp"
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
};

// Adds --data and its companions (--validation-split belongs to the training settings).
void add_data_options(CLI::App& command, DataArgs& args);

struct TrainingData {
  Dataset train;
  Dataset validation;       // the seeded split (empty without one)
  Dataset test;             // IDX: the t10k files; CSV and HDF5: empty
  io::DataState prepared;   // normalisation, feature and class names
};

// Loads, splits (seed), fits the normalisation on the training part and applies it to both.
// Throws naming the file and the problem, or a feature shape that does not fit `input`.
TrainingData load_training_data(const DataArgs& args, const Shape& input, std::uint64_t seed);

}  // namespace weft::cli
