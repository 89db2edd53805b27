#include "weft/data_source.hpp"

#include <algorithm>
#include <numeric>

#include "weft/error.hpp"
#include "weft/rng.hpp"

namespace weft {
namespace {

std::vector<std::int64_t> identity(std::int64_t n) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  return order;
}

void check_start(std::int64_t start, std::int64_t size, const std::string& name) {
  if (start < 0 || start > size)
    throw Error("cannot start an epoch of '" + name + "' at sample " + std::to_string(start) + ": it has " +
                std::to_string(size) + " samples");
}

class InMemoryReader final : public SampleReader {
 public:
  InMemoryReader(const Dataset& data, std::vector<std::int64_t> order, std::int64_t start)
      : data_(data), order_(std::move(order)), next_(start) {}
  std::int64_t read(std::int64_t count, Tensor& x, Tensor& y) override {
    const std::int64_t k = std::min(count, static_cast<std::int64_t>(order_.size()) - next_);
    if (k <= 0) return 0;
    gather(data_, std::span<const std::int64_t>(order_).subspan(static_cast<std::size_t>(next_), static_cast<std::size_t>(k)), x, y);
    next_ += k;
    return k;
  }
  std::int64_t read_inputs(std::int64_t count, std::int64_t, std::int64_t, std::span<Tensor> xs, Tensor& y) override {
    const std::int64_t k = std::min(count, static_cast<std::int64_t>(order_.size()) - next_);
    if (k <= 0) return 0;
    gather(data_, std::span<const std::int64_t>(order_).subspan(static_cast<std::size_t>(next_), static_cast<std::size_t>(k)), xs, y);
    next_ += k;
    return k;
  }

 private:
  const Dataset& data_;
  std::vector<std::int64_t> order_;
  std::int64_t next_;
};

}  // namespace

std::int64_t SampleReader::read_inputs(std::int64_t count, std::int64_t first, std::int64_t end, std::span<Tensor> xs,
                                       Tensor& y) {
  if (xs.size() != 1)
    throw Error("this data source serves one input per sample, " + std::to_string(xs.size()) + " were asked for");
  return read_part(count, first, end, xs[0], y);
}

std::unique_ptr<SampleReader> InMemorySource::open(const EpochOrder& order, std::int64_t start) const {
  check_start(start, size(), name());
  auto indices = order.shuffle ? shuffled_indices(size(), order.seed, order.epoch) : identity(size());
  return std::make_unique<InMemoryReader>(data_, std::move(indices), start);
}

WindowedOrder::WindowedOrder(std::vector<std::int64_t> sizes, const EpochOrder& order)
    : sizes_(std::move(sizes)), order_(order) {
  const auto windows = static_cast<std::int64_t>(sizes_.size());
  visit_ = order.shuffle ? shuffled_indices(windows, CounterRng(order.seed).derive(rng_stream::window).key(), order.epoch)
                         : identity(windows);
}

std::vector<std::int64_t> WindowedOrder::inside(std::int64_t w) const {
  const std::int64_t n = sizes_[static_cast<std::size_t>(w)];
  if (!order_.shuffle) return identity(n);
  // Epoch e, window w of W windows draws the permutation of "epoch" e·W + w: distinct for every
  // (epoch, window), and for one window exactly shuffled_indices(n, seed, e), the in-memory order.
  return shuffled_indices(n, order_.seed, order_.epoch * windows() + w);
}

std::pair<std::int64_t, std::int64_t> WindowedOrder::locate(std::int64_t start) const {
  for (std::int64_t k = 0; k < windows(); ++k) {
    const std::int64_t n = sizes_[static_cast<std::size_t>(window(k))];
    if (start < n) return {k, start};
    start -= n;
  }
  return {windows(), 0};
}

}  // namespace weft
