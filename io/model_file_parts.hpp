#pragma once
// The parts of weft's HDF5 files shared by model files and training checkpoints: the root
// attributes that identify the format, and the model (spec, weights, buffers). Internal to weft.
#include <functional>
#include <string>
#include <vector>

#include "hdf5_file.hpp"
#include "weft/io/model_file.hpp"
#include "weft/model.hpp"

namespace weft::io {

// Root attributes: format, format_version, weft_version.
void write_format(H5File& file, const std::string& format, int version);

struct FileFormat {
  const char* name;  // "weft"
  int version;       // the newest version this build reads
  const char* what;  // "model", for messages
};

// Checks the root attributes against the accepted formats and returns the one the file has.
// Throws IoError naming the file, what it is and what was expected.
FileFormat check_format(const H5File& file, const std::vector<FileFormat>& accepted);

// Writes a weft file at `path` atomically (write_atomically): the root attributes, the model,
// what `write_extra` adds (a checkpoint's optimizer and training state), then /data. Model files
// and checkpoints differ only in `format` and `write_extra`.
void write_weft_file(const std::string& path, const char* format, int version, const Model& model, const DataState& data,
                     const std::function<void(H5File&)>& write_extra = {});

// The spec attribute, /weights and /buffers.
void write_model_parts(H5File& file, const Model& model);
Model read_model_parts(const H5File& file);

// The /data group: settings attribute and float64 statistics.
void write_data(H5File& file, const DataState& data);
DataState read_data(const H5File& file);

// A tensor expected in a file: its name relative to a group and its shape.
struct ExpectedTensor {
  std::string name;
  Shape shape;
  float* out;
};

// Reads every expected tensor under `group`; throws naming the first one missing or misshapen,
// or any dataset under `group` that is not expected.
void read_tensors(const H5File& file, const std::string& group, const std::vector<ExpectedTensor>& expected);

}  // namespace weft::io
