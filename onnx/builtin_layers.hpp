#pragma once
// The ONNX form of weft's built-in layers (inference mode).
#include <string>

#include "weft/model.hpp"
#include "weft/onnx_graph.hpp"

namespace weft::onnx_export {

// Adds the nodes of built-in layer `slot` and returns its output's name; an empty string when
// `slot` is not a built-in type. Throws Error naming the layer when a built-in's settings have
// no ONNX equivalent (4-d convolution or pooling).
std::string builtin_to_onnx(const LayerSlot& slot, const OnnxLayerArgs& a);

}  // namespace weft::onnx_export
