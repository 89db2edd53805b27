#pragma once
// Model: an ordered stack of layers built from a JSON spec through the registry, with shape
// inference, the flat parameter and buffer storage, the loss and the optimizer configuration.
//
// Spec:
//   { "input": [1, 28, 28],
//     "layers": [ {"type": "dense", "units": 128}, {"type": "relu"}, ... ],
//     "loss": {"type": "cross_entropy"},
//     "optimizer": {"type": "adam", "lr": 0.001},
//     "training": {"batch": 128, "epochs": 3, ...} }       (weft/training_config.hpp)
// A layer may carry "name" (default "<type>_<index>"), unique within the model, and training
// settings: "lr_mult" (its parameters' learning rate = scheduled rate × lr_mult, default 1),
// "frozen" (true: never updated), "regularizer" (a weight penalty: l1, l2, elastic_net) and
// "activity_regularizer" (activity_l1, kl_sparsity), see weft/regularizer.hpp.
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
  std::string name;        // "<layer>/<param>"
  std::size_t layer = 0;   // index of the owning layer
  std::string param;       // "weight"
  Shape shape;
  std::size_t offset = 0;  // in floats
  bool is_bias = false;
  Json init;
  std::size_t size() const { return static_cast<std::size_t>(shape.numel()); }
};

struct LayerSlot {
  std::string name;
  std::string type;
  Json config;  // resolved: type and every setting
  Shape input;  // per sample
  Shape output;
  std::unique_ptr<Layer> layer;
  std::vector<std::size_t> params;   // indices into Model::parameter_table()
  std::vector<std::size_t> buffers;  // indices into Model::buffer_table()
  // Training settings the spec attaches to the layer (see the spec comment above).
  double lr_mult = 1.0;
  bool frozen = false;
  std::unique_ptr<Regularizer> regularizer;           // weight penalty, or null
  std::unique_ptr<Regularizer> activity_regularizer;  // penalty on the output, or null
};

class Model {
 public:
  // Builds every module through the registry and infers every shape; throws SpecError or
  // ShapeError naming the layer (index, type), its input shape and what it needed.
  explicit Model(const Json& spec);
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  // The spec with every module's settings resolved (defaults filled in): rebuilds this model.
  const Json& spec() const { return spec_; }
  const Shape& input_shape() const { return input_; }
  const Shape& output_shape() const;
  Shape target_shape() const;

  std::size_t layer_count() const { return layers_.size(); }
  const LayerSlot& layer(std::size_t i) const { return layers_[i]; }

  // All trainable parameters in one contiguous buffer, and the table of named views into it.
  std::span<float> parameters() { return params_.span(); }
  std::span<const float> parameters() const { return params_.span(); }
  const std::vector<NamedTensor>& parameter_table() const { return param_table_; }
  std::size_t parameter_count() const { return params_.size(); }
  // Non-trainable state (running statistics), laid out the same way.
  std::span<float> buffers() { return buffers_.span(); }
  std::span<const float> buffers() const { return buffers_.span(); }
  const std::vector<NamedTensor>& buffer_table() const { return buffer_table_; }

  const Loss& loss() const { return *loss_; }
  bool has_optimizer() const { return optimizer_ != nullptr; }
  // Throws SpecError when the spec has no optimizer.
  const Optimizer& optimizer() const;

  // Fills every parameter and buffer from its initializer, keyed by `seed`, the parameter's
  // name and the element index: the same seed gives the same weights on any machine.
  void initialize(std::uint64_t seed);

  // Views of layer `i`'s tensors inside `flat` (the model's storage or a same-sized gradient buffer).
  std::vector<View> param_views(std::size_t i, float* flat) const;
  std::vector<View> buffer_views(std::size_t i, float* flat) const;

  // A table: layer, type, output shape, parameter count; and totals.
  std::string summary() const;

 private:
  Json spec_;
  Shape input_;
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
