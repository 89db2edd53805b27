#pragma once
// A training checkpoint: everything needed to continue a run bit for bit, in one HDF5 file that
// h5py and h5dump read. It is a model file (weft/io/model_file.hpp: spec, /weights, /buffers,
// /data, written by the same code) with format = "weft-checkpoint" and more groups:
//
//   /optimizer                        attributes: type, config (JSON), one attribute per numeric
//                                     or boolean setting (lr, beta1, ...), slots (JSON list)
//   /optimizer/<layer>/<param>/<slot> float32, shaped like the parameter (Adam: exp_avg, exp_avg_sq)
//   /training                         attributes: state (the trainer's whole state, JSON), and
//                                     copies for readers: epoch, step, position, seed, lr,
//                                     schedule (JSON)
//   /training/history/<metric>        float64 (epochs,): the metrics history, one per metric
//   /early_stopping                   only when the run uses early stopping; attributes: monitor,
//                                     best (float64), best_epoch, wait, epochs_seen,
//                                     has_best_weights (0 or 1)
//   /early_stopping/weights/<layer>/<param>, /early_stopping/buffers/<layer>/<buffer>
//                                     float32: the best epoch's tensors (restore_best)
//
// Every dataset carries a "crc32" attribute; corruption inside data is reported on loading.
// Written atomically (temporary file in the same folder, flushed, renamed): a crash at any
// moment leaves either the previous checkpoint or the new one.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "weft/callbacks.hpp"
#include "weft/config.hpp"
#include "weft/io/model_file.hpp"
#include "weft/model.hpp"
#include "weft/tensor.hpp"

namespace weft::io {

inline constexpr const char* checkpoint_format = "weft-checkpoint";  // the root's "format" attribute
// The newest "format_version" this build writes and reads (it reads 1 up to this).
inline constexpr int checkpoint_format_version = 1;

// What a trainer reports as its state: a JSON object (step, epoch, position, rng, schedule,
// history, ...) and the optimizer's slots as tensors named `<layer>/<param>/<slot>`.
struct TrainingState {
  Json json = Json::object();  // TrainerState::json
  std::vector<std::pair<std::string, Tensor>> tensors;  // TrainerState::tensors (optimizer slots)
  std::optional<EarlyStoppingState> early_stopping;  // when the run uses early stopping
};

// Everything load_checkpoint() read back from one file.
struct Checkpoint {
  Model model;             // rebuilt from the stored spec, with the stored parameters and buffers
  TrainingState training;  // for Trainer::restore and EarlyStopping::restore
  DataState data;          // how inputs were prepared (normalisation)
};

// Writes the model, the training state and the data state to `path` atomically (the layout
// above); throws IoError naming the file when it cannot, leaving any old file at `path` intact.
void save_checkpoint(const std::string& path, const Model& model, const TrainingState& training,
                     const DataState& data = {});

// Loads and checks everything: format and version, each tensor's shape against the stored spec,
// no tensor missing or extra (named in the error), every CRC. Throws IoError with one line
// naming the file and the problem.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace weft::io
