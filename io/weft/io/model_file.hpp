#pragma once
// A model in one HDF5 file: the resolved spec and every parameter and buffer.
//
//   /                      attributes: format = "weft", format_version = 1, weft_version,
//                                      spec = the model spec as a JSON string
//   /weights/<layer>/<p>   float32, PyTorch's layout (dense weight (out, in), bias (out,))
//   /buffers/<layer>/<b>   float32 (running statistics and other non-trainable state)
//   /data                  attribute settings (JSON): how inputs are prepared (normalisation)
//   /data/<name>           float64 statistics of that preparation (per-feature mean, std)
//
// Written atomically (temporary file in the same folder, flushed, renamed).
#include <string>
#include <utility>
#include <vector>

#include "weft/config.hpp"
#include "weft/model.hpp"

namespace weft::io {

inline constexpr const char* file_format = "weft";  // the root's "format" attribute
// The newest "format_version" this build writes and reads (it reads 1 up to this).
inline constexpr int file_format_version = 1;

// The data pipeline's state: settings and named statistics (normalisation), kept with the model
// so that prediction prepares inputs as training did.
struct DataState {
  Json settings = Json::object();  // e.g. {"normalize": "standardize"}; stored as /data's attribute
  std::vector<std::pair<std::string, std::vector<double>>> tensors;  // stored as `/data/<name>`
};

// Writes `model` (spec, parameters, buffers) and `data` to `path` atomically (the layout above);
// throws IoError naming the file when it cannot, leaving any old file at `path` intact.
void save_model(const Model& model, const std::string& path, const DataState& data = {});

// Rebuilds the model from the stored spec (through the registry) and loads every tensor,
// checking shapes. Throws IoError naming the file and the problem: not HDF5, not a weft file,
// a newer format version, a missing, extra or misshapen tensor.
Model load_model(const std::string& path);
// Transfer learning: copies into `model` the parameters and buffers of the model file or
// checkpoint at `path` whose names ("<layer>/<param>") match. Strict (partial = false): every
// tensor of either side must have a counterpart of the same shape, or IoError names the first
// that does not. Partial: copies the tensors that match in name and shape and lists the others.
struct TransferReport {
  // The names of the tensors copied.
  std::vector<std::string> loaded, skipped;  // skipped: `"<name>: why"`, one per tensor left out
};
// Copies the matching tensors of `path` into `model`; the rules are in TransferReport's comment.
TransferReport load_matching_weights(Model& model, const std::string& path, bool partial);

// The /data group of a model file or checkpoint (empty settings when it has none).
DataState load_data_state(const std::string& path);

}  // namespace weft::io
