#include "model_work.hpp"

namespace weft::bench {
namespace {

// dense and conv1d/2d/3d: the layers whose work is a product with a "weight" tensor whose first
// axis is the output channels (PyTorch's layouts: dense (out, in), conv (out, in/groups, k...)).
bool is_product_layer(const LayerSlot& layer) {
  const std::string& t = layer.type;
  return t == "dense" || (t.size() == 6 && t.starts_with("conv") && t.ends_with("d"));
}

}  // namespace

ModelWork model_work(const Model& model, std::int64_t shard_size) {
  ModelWork work;
  bool earlier_weights = false;  // the input needs no gradient until a layer with weights is passed
  for (std::size_t l = 0; l < model.layer_count(); ++l) {
    const LayerSlot& layer = model.layer(l);
    if (!is_product_layer(layer)) continue;
    const Shape* weight = nullptr;
    for (std::size_t p : layer.params)
      if (model.parameter_table()[p].param == "weight") weight = &model.parameter_table()[p].shape;
    if (!weight) continue;
    const std::int64_t outputs = (*weight)[0];
    const std::int64_t groups = layer.config.value("groups", std::int64_t{1});
    const std::int64_t depth = weight->numel() / outputs;           // inputs per output: in or (C/g)·k...
    const std::int64_t positions = layer.output.numel() / outputs;  // output positions per channel
    const double forward = 2.0 * double(positions) * double(weight->numel());
    work.forward_flops += forward;
    work.training_flops += forward * (earlier_weights ? 3 : 2);
    // Per group: rows = samples × positions, columns = outputs of the group, depth = its inputs.
    const std::int64_t rows = shard_size * positions, columns = outputs / groups;
    for (std::int64_t g = 0; g < groups; ++g) {
      work.training_gemms.push_back({layer.name + " forward", rows, columns, depth});
      work.training_gemms.push_back({layer.name + " weight gradient", columns, depth, rows});
      if (earlier_weights) work.training_gemms.push_back({layer.name + " input gradient", rows, depth, columns});
    }
    earlier_weights = true;
  }
  return work;
}

}  // namespace weft::bench
