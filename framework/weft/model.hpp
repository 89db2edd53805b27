#pragma once
// Model: a directed acyclic graph of layers built from a JSON spec through the registry, with
// shape inference, the flat parameter and buffer storage, the loss and the optimizer configuration.
//
// Spec:
//
//   { "input": [1, 28, 28],
//     "layers": [ {"type": "dense", "units": 128}, {"type": "relu"}, ... ],
//     "loss": {"type": "cross_entropy"},
//     "optimizer": {"type": "adam", "lr": 0.001},
//     "training": {"batch": 128, "epochs": 3, ...} }       (weft/training_config.hpp)
// A layer may carry "name" (default `<type>_<index>`), unique within the model, and training
// settings: "lr_mult" (its parameters' learning rate = scheduled rate × lr_mult, default 1),
// "frozen" (true: never updated), "regularizer" (a weight penalty: l1, l2, elastic_net) and
// "activity_regularizer" (activity_l1, kl_sparsity), see weft/regularizer.hpp.
//
// Graphs: a layer may name what it reads, "inputs": ["conv_2", "input"], by layer name or model
// input name; without "inputs" it reads the previous layer's output (the first layer: the model
// input), so a chain is a graph whose layers all omit it. The model input is called "input";
// several named inputs are declared as "inputs": {"image": [1, 28, 28], "meta": [12]} instead of
// "input" (ordered by name). "output" names the output layer (default: the last; an earlier
// one is an error, since the layers after it could never feed it). The spec order is the
// execution order: a layer reads only inputs and earlier layers, and every input and layer must
// be read by some layer or be the output, so a mistake in a name cannot leave part of the graph
// silently unused.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "weft/config.hpp"
#include "weft/layer.hpp"
#include "weft/loss.hpp"
#include "weft/optimizer.hpp"
#include "weft/regularizer.hpp"
#include "weft/tensor.hpp"

namespace weft {

// One named tensor inside a flat buffer: "dense_0/weight" at [offset, offset + size).
struct NamedTensor {
  std::string name;        // `<layer>/<param>`
  std::size_t layer = 0;   // index of the owning layer
  std::string param;       // "weight"
  Shape shape;             // as the layer declared it
  std::size_t offset = 0;  // in floats; a multiple of 16, so every tensor is 64-byte aligned
  bool is_bias = false;    // weight penalties skip biases unless the regularizer includes them
  Json init;               // the initializer spec the layer declared (a name or an object)
  // Elements of the tensor (the buffer may hold padding after it, up to the next offset).
  std::size_t size() const { return static_cast<std::size_t>(shape.numel()); }
};

// One layer of a Model as built from its spec entry: the module, its shapes, where its tensors
// live in the flat buffers, and the training settings attached to it.
struct LayerSlot {
  std::string name;   // unique within the model; default `<type>_<index>`
  std::string type;   // the registered layer name, e.g. "dense"
  Json config;  // resolved: type and every setting
  Shape input;  // per sample: the first input (inputs[0])
  Shape output; // per sample, as the layer inferred it from its inputs
  // What the layer reads, in order: value ids (see Model::value_name).
  std::vector<std::size_t> sources;
  std::vector<Shape> inputs;  // per sample, the shape of each of `sources`
  std::unique_ptr<Layer> layer;  // the module itself (owned by the model)
  std::vector<std::size_t> params;   // indices into Model::parameter_table()
  std::vector<std::size_t> buffers;  // indices into Model::buffer_table()
  // Training settings the spec attaches to the layer (see the spec comment above).
  double lr_mult = 1.0;
  bool frozen = false;  // true: the trainer zeroes this layer's gradients, so it never changes
  std::unique_ptr<Regularizer> regularizer;           // weight penalty, or null
  std::unique_ptr<Regularizer> activity_regularizer;  // penalty on the output, or null
};

// A built model: owns its layers, their parameters and buffers, the loss and the optimizer
// settings. Not copyable (the layers are unique); movable. The Trainer and the Executor work on a
// Model without owning it.
class Model {
 public:
  // Builds every module through the registry and infers every shape; throws SpecError or
  // ShapeError naming the layer (index, type), its input shape and what it needed.
  explicit Model(const Json& spec);
  Model(Model&&) noexcept;             // moves the layers and storage; views into them stay valid
  Model& operator=(Model&&) noexcept;  // the same, replacing this model
  ~Model();

  // The spec with every module's settings resolved (defaults filled in): rebuilds this model.
  const Json& spec() const { return spec_; }
  // The first (for most models the only) input's per-sample shape: the spec's "input".
  const Shape& input_shape() const { return inputs_[0].shape; }
  std::size_t input_count() const { return inputs_.size(); }  // model inputs: 1, or the spec's "inputs"
  // Model input i's name: "input", or a key of the spec's "inputs" (ordered by name).
  const std::string& input_name(std::size_t i) const { return inputs_[i].name; }
  const Shape& input_shape(std::size_t i) const { return inputs_[i].shape; }  // model input i's, per sample
  // Tensors of the graph are numbered: model inputs 0 .. input_count() - 1, then layer l's
  // output as input_count() + l.
  std::size_t value_count() const { return inputs_.size() + layers_.size(); }
  const std::string& value_name(std::size_t value) const;  // the input's or the layer's name
  const Shape& value_shape(std::size_t value) const;       // per sample
  // The layer whose output is the model's output (the last, unless the spec names another).
  std::size_t output_layer() const { return output_; }
  const Shape& output_shape() const;  // per sample, the output layer's output
  // Per sample, what the loss expects as the target for that output (e.g. () class indices for
  // cross_entropy, the output's own shape for mse).
  Shape target_shape() const;

  std::size_t layer_count() const { return layers_.size(); }  // layers in the spec, in order
  const LayerSlot& layer(std::size_t i) const { return layers_[i]; }  // 0 <= i < layer_count()

  // All trainable parameters in one contiguous buffer, and the table of named views into it.
  std::span<float> parameters() { return params_.span(); }
  std::span<const float> parameters() const { return params_.span(); }  // read-only
  const std::vector<NamedTensor>& parameter_table() const { return param_table_; }  // layer order
  // Length of the parameter buffer in floats, alignment padding included: the size a gradient
  // buffer must have. Model::summary() counts only the real parameters.
  std::size_t parameter_count() const { return params_.size(); }
  // Non-trainable state (running statistics), laid out the same way.
  std::span<float> buffers() { return buffers_.span(); }
  std::span<const float> buffers() const { return buffers_.span(); }  // read-only
  const std::vector<NamedTensor>& buffer_table() const { return buffer_table_; }  // layer order

  const Loss& loss() const { return *loss_; }  // built from the spec's "loss"
  // False for a spec without "optimizer": such a model can predict and evaluate, not train.
  bool has_optimizer() const { return optimizer_ != nullptr; }
  // Throws SpecError when the spec has no optimizer.
  const Optimizer& optimizer() const;

  // Fills every parameter and buffer from its initializer, keyed by `seed`, the parameter's
  // name and the element index: the same seed gives the same weights on any machine.
  void initialize(std::uint64_t seed);

  // Views of layer `i`'s tensors inside `flat` (the model's storage or a same-sized gradient buffer).
  std::vector<View> param_views(std::size_t i, float* flat) const;
  std::vector<View> buffer_views(std::size_t i, float* flat) const;  // the same for its buffers

  // A table: layer, type, output shape, parameter count, inputs; and totals.
  std::string summary() const;

 private:
  struct NamedInput {
    std::string name;
    Shape shape;
  };
  Json spec_;
  std::vector<NamedInput> inputs_;
  std::size_t output_ = 0;
  std::vector<LayerSlot> layers_;
  std::vector<NamedTensor> param_table_;
  std::vector<NamedTensor> buffer_table_;
  Tensor params_;
  Tensor buffers_;
  std::unique_ptr<Loss> loss_;
  std::unique_ptr<Optimizer> optimizer_;
};

// Reads a spec file; throws IoError / SpecError naming the file and the JSON problem.
Json read_spec_file(const std::string& path);

}  // namespace weft
