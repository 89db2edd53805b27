#pragma once
// The /early_stopping group of a checkpoint (internal to weft; layout in weft/io/checkpoint.hpp).
#include <optional>

#include "hdf5_file.hpp"
#include "weft/callbacks.hpp"
#include "weft/model.hpp"

namespace weft::io {

void write_early_stopping(H5File& file, const Model& model, const EarlyStoppingState& state);
// nullopt when the checkpoint has no /early_stopping group (the run did not use early stopping).
std::optional<EarlyStoppingState> read_early_stopping(const H5File& file, const Model& model);

}  // namespace weft::io
