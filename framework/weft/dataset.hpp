#pragma once
// Dataset: samples in memory, features (n, feature...) and targets (n, target...); a class label
// is a target of shape () stored as a float. A model with several inputs (weft/model.hpp) takes
// one features tensor per input: x for its first input, more_x for the others, in the model's
// input order (Model::input_name), all with the same first extent.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "weft/tensor.hpp"

namespace weft {

// Samples in memory (see the file comment); x, more_x and y must have the same first extent.
struct Dataset {
  Tensor x;  // features (n, feature...) of the model's (first) input
  Tensor y;  // targets (n, target...); a class label is one float holding the index
  std::string name;  // for messages: "train", a file name
  std::vector<Tensor> more_x = {};  // several-input models: the features of inputs 1, 2, ... (n, ...)

  std::int64_t size() const { return x.shape().rank() ? x.shape()[0] : 0; }  // samples (0 when empty)
  std::size_t input_count() const { return 1 + more_x.size(); }  // features tensors per sample
  const Tensor& input(std::size_t i) const { return i == 0 ? x : more_x[i - 1]; }  // i < input_count()
  Tensor& input(std::size_t i) { return i == 0 ? x : more_x[i - 1]; }  // the same, writable
};

// Copies the samples `indices` of `data` into `x` and `y` (resized to fit); only the first
// input's features (see the overload for all of them).
void gather(const Dataset& data, std::span<const std::int64_t> indices, Tensor& x, Tensor& y);
// The same for every input: xs[i] receives input i's features (xs.size() == data.input_count()).
void gather(const Dataset& data, std::span<const std::int64_t> indices, std::span<Tensor> xs, Tensor& y);

// A permutation of [0, n) drawn from `seed` and `epoch` alone (Fisher–Yates on the counter RNG).
std::vector<std::int64_t> shuffled_indices(std::int64_t n, std::uint64_t seed, std::int64_t epoch);

}  // namespace weft
