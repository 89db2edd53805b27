#pragma once
// How a layer describes itself as ONNX nodes, for `weft export --onnx` (weft/io/onnx_export.hpp).
//
// The exporter walks the model's layers in order and asks each for the nodes that compute its
// inference-mode output from its input. Built-in layers are translated by the exporter itself; a
// plugin's layer overrides Layer::to_onnx() and builds its nodes through OnnxGraph, which keeps
// protobuf and ONNX's headers out of the plugin interface:
//
//   std::string to_onnx(const weft::OnnxLayerArgs& a) const override {
//     const auto alpha = a.graph.constant(a.name + "/alpha", a.params[0]);
//     return a.graph.node("Mul", {alpha, a.graph.node("Tanh", {a.input})});
//   }
//
// Values are float32 tensors of shape (batch, per-sample shape...), the batch axis first as in
// weft's passes. Operators are those of the default ONNX domain at the exporter's opset
// (onnx_opset below); a layer that returns an empty string has no ONNX equivalent, and the
// export fails naming it.
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "weft/shape.hpp"
#include "weft/tensor.hpp"

namespace weft {

// The ONNX operator set every exported model declares (default domain).
inline constexpr int onnx_opset = 13;

// An attribute of a node: an integer, a float, a string, or lists of integers or floats.
using OnnxAttributeValue = std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>, std::vector<float>>;
// One named attribute of a node, e.g. {"axis", std::int64_t{1}}.
struct OnnxAttribute {
  std::string name;          // as the ONNX operator defines it
  OnnxAttributeValue value;  // its type must be the one the operator expects
};

// The graph being exported, as a layer's to_onnx() sees it: it adds constants and nodes and
// refers to values by name. Implemented by the exporter.
class OnnxGraph {
 public:
  virtual ~OnnxGraph() = default;
  // Adds a float32 constant (an initializer) holding `values`; returns its name, `name` or a
  // unique variant of it.
  virtual std::string constant(const std::string& name, ConstView values) = 0;
  // Adds a 1-d int64 constant (Reshape's shape, Pad's pads); returns its name.
  virtual std::string int_constant(const std::string& name, const std::vector<std::int64_t>& values) = 0;
  // Adds the node `op` (default domain) reading `inputs`; returns the name of its one output.
  virtual std::string node(const std::string& op, const std::vector<std::string>& inputs,
                           const std::vector<OnnxAttribute>& attributes = {}) = 0;
};

// What Layer::to_onnx() gets: the graph to add to and the layer's input, shapes and tensors.
struct OnnxLayerArgs {
  OnnxGraph& graph;                    // add the layer's constants and nodes here
  std::string input;                   // the value holding the layer's input, (batch, input_shape...)
  const Shape& input_shape;            // per sample, as infer() saw it
  const Shape& output_shape;           // per sample, as infer() returned it
  std::span<const ConstView> params;   // in the order of parameters()
  std::span<const ConstView> buffers;  // in the order of buffers()
  std::string name;                    // the layer's name in the model: a prefix for its constants
  std::vector<std::string> inputs = {};  // every input's value, in the layer's order (inputs[0] is input)
};

}  // namespace weft
