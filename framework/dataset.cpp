#include "weft/dataset.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

#include "weft/rng.hpp"

namespace weft {

void gather(const Dataset& data, std::span<const std::int64_t> indices, Tensor& x, Tensor& y) {
  const auto n = static_cast<std::int64_t>(indices.size());
  const Shape xs = data.x.shape().without_batch().with_batch(n);
  const Shape ys = data.y.shape().without_batch().with_batch(n);
  if (!(x.shape() == xs)) x.resize(xs);
  if (!(y.shape() == ys)) y.resize(ys);
  const std::int64_t xw = xs.numel() / std::max<std::int64_t>(n, 1), yw = ys.numel() / std::max<std::int64_t>(n, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    std::copy_n(data.x.data() + indices[i] * xw, xw, x.data() + i * xw);
    std::copy_n(data.y.data() + indices[i] * yw, yw, y.data() + i * yw);
  }
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
