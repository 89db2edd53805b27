#pragma once
// Building a graph model in C++ (the functional form next to weft::Sequential): each add() names
// the tensors its layer reads and returns the tensor it writes.
//
//   weft::Graph net;
//   const weft::Node image = net.input("image", {1, 28, 28}), meta = net.input("meta", {12});
//   weft::Node x = net.add(weft::conv2d(8, 3), image);
//   x = net.add(weft::flatten(), x);
//   const weft::Node joined = net.add(weft::concat(), {x, meta});
//   net.add(weft::dense(10), joined);
//   net.loss("cross_entropy").optimizer(weft::adam(1e-3));
//   weft::Model model = net.build();
//
// Like Sequential it only writes the spec (weft/model.hpp: "inputs" per layer, named model
// inputs); build() checks everything through the registry as for a JSON spec.
#include <string>
#include <vector>

#include "weft/sequential.hpp"

namespace weft {

// A tensor of the graph being built: a model input or a layer's output, by name.
struct Node {
  std::string name;  // the model input's or the layer's name, as "inputs" refers to it
};

// The concat layer joining its inputs along per-sample axis `axis` (0: channels).
inline ModuleSpec concat(std::int64_t axis = 0) { return module("concat").with("axis", axis); }

// A model spec being written layer by layer, each layer naming the tensors it reads.
class Graph {
 public:
  // Declares a model input with its per-sample shape.
  Node input(const std::string& name, const Shape& shape);
  // Adds a layer reading `inputs` (in order); its name is the spec's "name" or "<type>_<index>".
  Node add(const ModuleSpec& layer, const std::vector<Node>& inputs);
  // The same for a layer reading one tensor.
  Node add(const ModuleSpec& layer, const Node& input) { return add(layer, std::vector<Node>{input}); }
  // The model output (default: the last layer added).
  Graph& output(const Node& node);
  Graph& loss(const ModuleSpec& loss);            // the spec's "loss"
  Graph& optimizer(const ModuleSpec& optimizer);  // the spec's "optimizer"
  Graph& training(const Json& settings);          // the spec's "training" (weft/training_config.hpp)

  const Json& spec() const { return spec_; }  // the JSON spec written so far
  // Builds the model through the registry; throws SpecError / ShapeError as Model(spec) does.
  Model build() const { return Model(spec_); }

 private:
  Json spec_ = {{"inputs", Json::object()}, {"layers", Json::array()}};
};

}  // namespace weft
