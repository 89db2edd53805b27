#include "weft/io/hdf5_source.hpp"

#include <algorithm>

#include "weft/error.hpp"
#include "weft/io/hdf5_dataset.hpp"
#include "weft/rng.hpp"

namespace weft::io {

bool RowSplit::keeps(std::int64_t row) const {
  if (fraction <= 0) return true;
  const bool held = CounterRng(seed).derive(rng_stream::split).derive(1).uniform_double(static_cast<std::uint64_t>(row)) < fraction;
  return held == held_out;
}

std::int64_t window_rows_for(std::int64_t budget_bytes, const Shape& sample, const Shape& target) {
  const std::int64_t row_bytes = (sample.numel() + target.numel()) * static_cast<std::int64_t>(sizeof(float));
  return std::max<std::int64_t>(1, budget_bytes / std::max<std::int64_t>(row_bytes, 1));
}

struct Hdf5Source::State {
  std::string path;
  Hdf5SourceOptions options;
  Hdf5Rows x, y;
  Shape sample;
  std::vector<std::int64_t> window_sizes;  // samples served by each window (after the split)
  std::int64_t size = 0;
  std::int64_t resident = 0, peak = 0;

  std::int64_t rows() const { return x.size(); }
  std::int64_t window_begin(std::int64_t w) const { return w * options.window_rows; }
  std::int64_t window_end(std::int64_t w) const { return std::min(rows(), (w + 1) * options.window_rows); }
};

namespace {

// Serves one epoch: the current window's rows (features prepared, split applied) and where we
// are in it.
class Hdf5Reader final : public SampleReader {
 public:
  Hdf5Reader(std::shared_ptr<Hdf5Source::State> state, const EpochOrder& order, std::int64_t start)
      : s_(std::move(state)), order_(s_->window_sizes, order), remaining_(s_->size - start) {
    std::tie(k_, offset_) = order_.locate(start);
    if (k_ < order_.windows()) load(k_);
  }
  ~Hdf5Reader() override { release(); }
  Hdf5Reader(const Hdf5Reader&) = delete;
  Hdf5Reader& operator=(const Hdf5Reader&) = delete;

  std::int64_t read(std::int64_t count, Tensor& x, Tensor& y) override {
    const std::int64_t n = std::min(count, remaining_);
    if (n <= 0) return 0;
    const Shape xs = s_->sample.with_batch(n), ys = s_->y.sample_shape().with_batch(n);
    if (!(x.shape() == xs)) x.resize(xs);
    if (!(y.shape() == ys)) y.resize(ys);
    const std::int64_t xw = s_->sample.numel(), yw = s_->y.sample_shape().numel();
    for (std::int64_t i = 0; i < n; ++i) {
      while (offset_ == static_cast<std::int64_t>(inside_.size())) {
        ++k_;
        offset_ = 0;
        load(k_);
      }
      const std::int64_t r = inside_[static_cast<std::size_t>(offset_++)];
      std::copy_n(window_x_.data() + r * xw, xw, x.data() + i * xw);
      std::copy_n(window_y_.data() + r * yw, yw, y.data() + i * yw);
    }
    remaining_ -= n;
    return n;
  }

 private:
  // Reads window order_.window(k): its rows from disk, the split's rows kept, then prepared.
  void load(std::int64_t k) {
    release();  // never two windows at once
    const std::int64_t w = order_.window(k), begin = s_->window_begin(w), rows = s_->window_end(w) - begin;
    window_x_ = s_->x.read(begin, rows);
    window_y_ = s_->y.read(begin, rows);
    held_ = rows;
    s_->resident += held_;
    s_->peak = std::max(s_->peak, s_->resident);
    if (s_->options.split.fraction > 0) keep_split_rows(begin, rows);
    if (s_->options.prepare && window_x_.size() > 0) s_->options.prepare(window_x_);
    inside_ = order_.inside(w);
  }

  // Moves the rows this source serves to the front of the window buffers and trims the rest.
  void keep_split_rows(std::int64_t begin, std::int64_t rows) {
    const std::int64_t xw = window_x_.shape().numel() / std::max<std::int64_t>(rows, 1);
    const std::int64_t yw = window_y_.shape().numel() / std::max<std::int64_t>(rows, 1);
    std::int64_t kept = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      if (!s_->options.split.keeps(begin + r)) continue;
      if (kept != r) {
        std::copy_n(window_x_.data() + r * xw, xw, window_x_.data() + kept * xw);
        std::copy_n(window_y_.data() + r * yw, yw, window_y_.data() + kept * yw);
      }
      ++kept;
    }
    Tensor x(window_x_.shape().without_batch().with_batch(kept)), y(window_y_.shape().without_batch().with_batch(kept));
    std::copy_n(window_x_.data(), x.size(), x.data());
    std::copy_n(window_y_.data(), y.size(), y.data());
    window_x_ = std::move(x);
    window_y_ = std::move(y);
  }

  void release() {
    window_x_ = Tensor();
    window_y_ = Tensor();
    s_->resident -= held_;
    held_ = 0;
  }

  std::shared_ptr<Hdf5Source::State> s_;
  WindowedOrder order_;
  std::int64_t remaining_;
  std::int64_t k_ = 0, offset_ = 0;  // the window being served (visit index) and the next row in it
  std::vector<std::int64_t> inside_;
  Tensor window_x_, window_y_;
  std::int64_t held_ = 0;  // rows counted as resident for this reader
};

}  // namespace

Hdf5Source::Hdf5Source(const std::string& path, Hdf5SourceOptions options) {
  Hdf5Rows x(path, options.features), y(path, options.labels);
  state_ = std::make_shared<State>(State{path, std::move(options), std::move(x), std::move(y), {}, {}, 0, 0, 0});
  State& s = *state_;
  const auto& o = s.options;
  if (o.window_rows < 1) throw Error("a streaming window needs at least 1 row, got " + std::to_string(o.window_rows));
  if (s.x.size() != s.y.size())
    throw IoError("HDF5 file '" + path + "': '" + o.features + "' has " + std::to_string(s.x.size()) + " samples but '" +
                  o.labels + "' has " + std::to_string(s.y.size()));
  s.sample = o.sample_shape.rank() ? o.sample_shape : s.x.sample_shape();
  if (s.sample.numel() != s.x.sample_shape().numel())
    throw ShapeError("HDF5 file '" + path + "': dataset '" + o.features + "' has samples of shape " +
                     s.x.sample_shape().str() + " (" + std::to_string(s.x.sample_shape().numel()) + " values); " +
                     o.expected_by + " takes " + s.sample.str() + " (" + std::to_string(s.sample.numel()) + " values)");
  const std::int64_t windows = (s.rows() + o.window_rows - 1) / o.window_rows;
  for (std::int64_t w = 0; w < windows; ++w) {
    std::int64_t n = 0;
    for (std::int64_t r = s.window_begin(w); r < s.window_end(w); ++r) n += o.split.keeps(r);
    s.window_sizes.push_back(n);
    s.size += n;
  }
}

Hdf5Source::~Hdf5Source() = default;

std::int64_t Hdf5Source::size() const { return state_->size; }
Shape Hdf5Source::sample_shape() const { return state_->sample; }
Shape Hdf5Source::target_shape() const { return state_->y.sample_shape(); }
std::string Hdf5Source::name() const {
  const auto& split = state_->options.split;
  if (split.fraction <= 0) return state_->path;
  return state_->path + (split.held_out ? " (validation part)" : " (training part)");
}
std::int64_t Hdf5Source::rows() const { return state_->rows(); }
std::int64_t Hdf5Source::window_rows() const { return state_->options.window_rows; }
std::int64_t Hdf5Source::resident_rows() const { return state_->resident; }
std::int64_t Hdf5Source::peak_resident_rows() const { return state_->peak; }

std::unique_ptr<SampleReader> Hdf5Source::open(const EpochOrder& order, std::int64_t start) const {
  if (start < 0 || start > size())
    throw Error("cannot start an epoch of '" + name() + "' at sample " + std::to_string(start) + ": it has " +
                std::to_string(size()) + " samples");
  return std::make_unique<Hdf5Reader>(state_, order, start);
}

}  // namespace weft::io
