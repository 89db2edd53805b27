#pragma once
// Layer fusions: a pair of layers the executor may run as one layer when the second alone reads
// the first's output (a convolution and the max pooling after it). The fused layer computes the
// second's output from the first's input without writing the intermediate tensor, which on a
// convolutional network is the largest activation of all: it is never written to memory, read
// back, nor its gradient written and read again.
//
// A fused layer takes the first layer's place: it declares the first layer's parameters (same
// names and shapes), and gets the first layer's input, parameters, parameter gradients and
// workspace, with the second layer's output (y) and output gradient (dy). It must give exactly
// the values the two layers give one after the other (the same bits), so fusing is never a
// setting a user has to weigh; ExecutorOptions::fuse_layers turns it off to check that.
#include <functional>
#include <memory>
#include <string>

#include "weft/config.hpp"
#include "weft/layer.hpp"

namespace weft {

// One registered fusion: which two layer types, and how to build the layer that stands for both.
struct LayerFusion {
  std::string first;   // the first layer's registered type, e.g. "conv2d"
  std::string second;  // the second's, e.g. "max_pool2d"
  // Builds the fused layer from both layers' resolved settings and the first layer's per-sample
  // input shape, already through infer(); returns null when these settings do not fuse.
  std::function<std::unique_ptr<Layer>(const Config& first, const Config& second, const Shape& input)> create;
};

// Registers a fusion (built-ins do at start-up, a plugin may for its own layers); a later one for
// the same pair of types replaces the earlier.
void add_layer_fusion(LayerFusion fusion);

// The fused layer for `first` followed by `second`, or null when no fusion applies.
std::unique_ptr<Layer> fuse_layers(const std::string& first_type, const Config& first, const std::string& second_type,
                                   const Config& second, const Shape& input);

}  // namespace weft
