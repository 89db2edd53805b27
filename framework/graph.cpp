#include "weft/graph.hpp"

namespace weft {

Node Graph::input(const std::string& name, const Shape& shape) {
  spec_["inputs"][name] = shape.to_vector();
  return {name};
}

Node Graph::add(const ModuleSpec& layer, const std::vector<Node>& inputs) {
  Json entry = layer.json();
  const std::size_t index = spec_["layers"].size();
  if (!entry.contains("name")) entry["name"] = entry.value("type", std::string("layer")) + "_" + std::to_string(index);
  entry["inputs"] = Json::array();
  for (const auto& in : inputs) entry["inputs"].push_back(in.name);
  spec_["layers"].push_back(entry);
  return {entry["name"].get<std::string>()};
}

Graph& Graph::output(const Node& node) {
  spec_["output"] = node.name;
  return *this;
}

Graph& Graph::loss(const ModuleSpec& loss) {
  spec_["loss"] = loss.json();
  return *this;
}

Graph& Graph::optimizer(const ModuleSpec& optimizer) {
  spec_["optimizer"] = optimizer.json();
  return *this;
}

Graph& Graph::training(const Json& settings) {
  spec_["training"] = settings;
  return *this;
}

}  // namespace weft
