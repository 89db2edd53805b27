#pragma once
// A model in one HDF5 file: the resolved spec and every parameter and buffer.
//
//   /                      attributes: format = "weft", format_version = 1, weft_version,
//                                      spec = the model spec as a JSON string
//   /weights/<layer>/<p>   float32, PyTorch's layout (dense weight (out, in), bias (out,))
//   /buffers/<layer>/<b>   float32 (running statistics and other non-trainable state)
//
// Written atomically (temporary file in the same folder, flushed, renamed).
#include <string>

#include "weft/model.hpp"

namespace weft::io {

inline constexpr const char* file_format = "weft";
inline constexpr int file_format_version = 1;

void save_model(const Model& model, const std::string& path);

// Rebuilds the model from the stored spec (through the registry) and loads every tensor,
// checking shapes. Throws IoError naming the file and the problem: not HDF5, not a weft file,
// a newer format version, a missing, extra or misshapen tensor.
Model load_model(const std::string& path);

}  // namespace weft::io
