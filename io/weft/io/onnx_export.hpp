#pragma once
// ONNX export: a trained model in inference form for any ONNX runtime (`weft export --onnx`).
//
//   opset      13 of the default domain (weft::onnx_opset), IR version 7
//   input      "input":  float32 (batch, per-sample input shape...), "batch" symbolic; raw
//                         inputs: the normalisation stored with the model is part of the graph
//   outputs    "output": float32 (batch, per-sample output shape...), the last layer's values;
//              "probabilities" (classifiers with one output vector per sample): what
//                         `weft predict` prints, softmax (cross_entropy), exp (nll) or sigmoid
//                         (binary_cross_entropy) of "output"
//   metadata   weft_version, spec (the resolved model spec as JSON), normalize (how inputs are
//              prepared, JSON), in metadata_props; producer "weft" and its version
//
// Dropout is the identity and batch normalisation uses its running statistics. A layer with no
// ONNX equivalent (4-d convolution or pooling, a plugin layer without Layer::to_onnx) is an
// Error naming it. The file is written to a temporary beside `path` and renamed, so a failed
// export leaves no partial file and an existing file at `path` stays as it was.
#include <string>

#include "weft/io/model_file.hpp"
#include "weft/model.hpp"

namespace weft::io {

// Whether this build of weft can export ONNX (the Meson option `onnx`).
bool onnx_export_available();

// Writes `model` (with the input preparation in `data`) to `path` as described above; throws
// Error naming the first layer without an ONNX equivalent, or when onnx_export_available() is
// false.
void export_onnx(const Model& model, const std::string& path, const DataState& data = {});

}  // namespace weft::io
