#pragma once
// Pieces shared by the built-in layers' ONNX translations.
#include <cstdint>
#include <string>
#include <vector>

#include "layers/conv/geometry.hpp"
#include "weft/model.hpp"
#include "weft/onnx_graph.hpp"

namespace weft::onnx_export {

using Ints = std::vector<std::int64_t>;

// A float32 scalar constant named "<layer>/<name>".
std::string scalar(const OnnxLayerArgs& a, const std::string& name, float value);

// Reshape of x to (batch, per_sample...), the batch axis inferred (-1).
std::string reshape(const OnnxLayerArgs& a, const std::string& x, const Shape& per_sample);

// The one-line error for a layer (or a setting of it) that ONNX cannot express.
[[noreturn]] void no_equivalent(const LayerSlot& slot, const std::string& why);

// Relu after conv or dense for "activation": "relu"; y itself for "none".
std::string fused_activation(const LayerSlot& slot, const OnnxLayerArgs& a, const std::string& y);

// The window of a conv or pooling layer, as ONNX attributes and extents. "same" padding may be
// uneven (the extra at the end), which ONNX's explicit pads express.
struct Window {
  Ints kernel, strides, dilations;
  Ints pads_begin, pads_end;  // ONNX's pads = pads_begin then pads_end
  Ints in, out;               // spatial extents
  std::int64_t channels = 0;
  std::size_t dims() const { return kernel.size(); }
  Ints pads() const;
  std::int64_t kernel_count() const;
  std::int64_t out_count() const;
  Shape input_shape() const;   // (channels, in...)
  Shape output_shape(std::int64_t channels_out) const;  // (channels_out, out...)
};

// Reads the layer's window settings; throws (no_equivalent) beyond 3 spatial axes.
Window window(const LayerSlot& slot, bool allow_same, bool stride_defaults_to_kernel);

// OpenCV 4.6 runs 1-d convolution and pooling unreliably, so 1-d windows are exported as 2-d ones
// over (C, L, 1): this adds the trailing axis (kernel 1, stride 1, no padding, extent 1).
void widen_to_plane(Window& w);

}  // namespace weft::onnx_export
