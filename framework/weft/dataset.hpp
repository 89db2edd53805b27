#pragma once
// Dataset: samples in memory, features (n, feature...) and targets (n, target...); a class label
// is a target of shape () stored as a float.
#include <cstdint>
#include <span>
#include <string>

#include "weft/tensor.hpp"

namespace weft {

// Samples in memory (see the file comment); x and y must have the same first extent.
struct Dataset {
  Tensor x;  // features (n, feature...)
  Tensor y;  // targets (n, target...); a class label is one float holding the index
  std::string name;  // for messages: "train", a file name

  std::int64_t size() const { return x.shape().rank() ? x.shape()[0] : 0; }  // samples (0 when empty)
};

// Copies the samples `indices` of `data` into `x` and `y` (resized to fit).
void gather(const Dataset& data, std::span<const std::int64_t> indices, Tensor& x, Tensor& y);

// A permutation of [0, n) drawn from `seed` and `epoch` alone (Fisher–Yates on the counter RNG).
std::vector<std::int64_t> shuffled_indices(std::int64_t n, std::uint64_t seed, std::int64_t epoch);

}  // namespace weft
