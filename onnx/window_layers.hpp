#pragma once
// ONNX translations of the sliding-window layers: convolution, transposed convolution, pooling.
#include <string>

#include "weft/model.hpp"
#include "weft/onnx_graph.hpp"

namespace weft::onnx_export {

std::string conv_to_onnx(const LayerSlot& slot, const OnnxLayerArgs& a);
std::string conv_transpose_to_onnx(const LayerSlot& slot, const OnnxLayerArgs& a);
std::string pool_to_onnx(const LayerSlot& slot, const OnnxLayerArgs& a, bool max);
// global_avg_pool / global_max_pool: op is GlobalAveragePool or GlobalMaxPool.
std::string global_pool_to_onnx(const OnnxLayerArgs& a, const std::string& op);

}  // namespace weft::onnx_export
