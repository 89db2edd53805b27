#pragma once
// OnnxGraph (weft/onnx_graph.hpp) over an onnx::GraphProto: what layers build their nodes with.
#include <set>
#include <string>

#include "onnx.pb.h"
#include "weft/onnx_graph.hpp"

namespace weft::onnx_export {

class GraphBuilder final : public OnnxGraph {
 public:
  explicit GraphBuilder(onnx::GraphProto& graph) : graph_(graph) {}

  std::string constant(const std::string& name, ConstView values) override;
  std::string int_constant(const std::string& name, const std::vector<std::int64_t>& values) override;
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<OnnxAttribute>& attributes = {}) override;
  // A node whose output gets exactly `output` (a graph output's name).
  void named_node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
                  const std::vector<OnnxAttribute>& attributes = {});
  // Reserves a name (the graph input) so that nothing else takes it.
  void reserve(const std::string& name) { names_.insert(name); }
  // Prefix for the names of the nodes added next (the layer being exported).
  void set_scope(const std::string& scope) { scope_ = scope; }

 private:
  std::string unique(const std::string& base);
  onnx::NodeProto& add_node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::vector<OnnxAttribute>& attributes);
  onnx::GraphProto& graph_;
  std::set<std::string> names_;
  std::string scope_;
};

}  // namespace weft::onnx_export
