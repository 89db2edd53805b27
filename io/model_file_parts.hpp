#pragma once
// The model part of a weft HDF5 file (spec, weights, buffers), shared by model files and full
// training checkpoints. Internal to weft.
#include "hdf5_file.hpp"
#include "weft/model.hpp"

namespace weft::io {

void write_model_parts(H5File& file, const Model& model);
Model read_model_parts(const H5File& file);

}  // namespace weft::io
