#include "weft/dataset.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

#include "weft/error.hpp"
#include "weft/rng.hpp"

namespace weft {

namespace {

// Rows `indices` of `from` (n, sample...) into `to` (indices.size(), sample...), resized to fit.
void gather_rows(const Tensor& from, std::span<const std::int64_t> indices, Tensor& to) {
  const auto n = static_cast<std::int64_t>(indices.size());
  const Shape shape = from.shape().without_batch().with_batch(n);
  if (!(to.shape() == shape)) to.resize(shape);
  const std::int64_t width = shape.numel() / std::max<std::int64_t>(n, 1);
  for (std::int64_t i = 0; i < n; ++i) std::copy_n(from.data() + indices[i] * width, width, to.data() + i * width);
}

}  // namespace

void gather(const Dataset& data, std::span<const std::int64_t> indices, Tensor& x, Tensor& y) {
  gather_rows(data.x, indices, x);
  gather_rows(data.y, indices, y);
}

void gather(const Dataset& data, std::span<const std::int64_t> indices, std::span<Tensor> xs, Tensor& y) {
  if (xs.size() != data.input_count())
    throw Error("'" + data.name + "' has " + std::to_string(data.input_count()) + " inputs per sample, " +
                std::to_string(xs.size()) + " were asked for");
  for (std::size_t i = 0; i < xs.size(); ++i) gather_rows(data.input(i), indices, xs[i]);
  gather_rows(data.y, indices, y);
}

std::vector<std::int64_t> shuffled_indices(std::int64_t n, std::uint64_t seed, std::int64_t epoch) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const CounterRng rng = CounterRng(seed).derive(rng_stream::shuffle).derive(static_cast<std::uint64_t>(epoch));
  for (std::int64_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(i + 1))]);
  return order;
}

}  // namespace weft
