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
  std::int64_t feature_rows_read = 0;

  std::int64_t rows() const { return x.size(); }
  std::int64_t window_begin(std::int64_t w) const { return w * options.window_rows; }
  std::int64_t window_end(std::int64_t w) const { return std::min(rows(), (w + 1) * options.window_rows); }
};

namespace {

// Serves one epoch: the current window's targets and the file row of each of its samples (split
// applied), its features when a whole batch is read (one slab), and where we are in it.
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

  std::int64_t read(std::int64_t count, Tensor& x, Tensor& y) override { return read_part(count, 0, count, x, y); }

  std::int64_t read_part(std::int64_t count, std::int64_t first, std::int64_t end, Tensor& x, Tensor& y) override {
    const std::int64_t n = std::min(count, remaining_);
    if (n <= 0) return 0;
    first = std::clamp<std::int64_t>(first, 0, n);
    end = std::clamp<std::int64_t>(end, first, n);
    const bool whole = first == 0 && end == n;
    const Shape xs = s_->sample.with_batch(n), ys = s_->y.sample_shape().with_batch(n);
    if (!(x.shape() == xs)) x.resize(xs);
    if (!(y.shape() == ys)) y.resize(ys);
    const std::int64_t xw = s_->sample.numel(), yw = s_->y.sample_shape().numel();
    // A part: the file rows of samples [first, end), read together after the loop.
    std::vector<std::pair<std::int64_t, std::int64_t>> wanted;  // (file row, sample in the batch)
    for (std::int64_t i = 0; i < n; ++i) {
      while (offset_ == static_cast<std::int64_t>(inside_.size())) {
        ++k_;
        offset_ = 0;
        load(k_);
      }
      const std::int64_t r = inside_[static_cast<std::size_t>(offset_++)];
      std::copy_n(window_y_.data() + r * yw, yw, y.data() + i * yw);
      if (whole) {
        if (window_x_.shape().rank() == 0) load_features();
        std::copy_n(window_x_.data() + r * xw, xw, x.data() + i * xw);
      } else if (i >= first && i < end) {
        wanted.emplace_back(rows_[static_cast<std::size_t>(r)], i);
      }
    }
    if (!whole) read_rows_of(wanted, x, first, end);
    remaining_ -= n;
    return n;
  }

 private:
  // Makes window order_.window(k) current: its targets and the file row of each of its samples
  // (those the split keeps); its features are read when a whole batch needs them.
  void load(std::int64_t k) {
    release();  // never two windows at once
    const std::int64_t w = order_.window(k), begin = s_->window_begin(w), rows = s_->window_end(w) - begin;
    window_y_ = s_->y.read(begin, rows);
    held_ = rows;
    s_->resident += held_;
    s_->peak = std::max(s_->peak, s_->resident);
    rows_.clear();
    for (std::int64_t r = begin; r < begin + rows; ++r)
      if (s_->options.split.keeps(r)) rows_.push_back(r);
    if (static_cast<std::int64_t>(rows_.size()) != rows) window_y_ = kept_rows(window_y_, begin);
    inside_ = order_.inside(w);
  }

  // The current window's features, one slab, kept rows only, prepared.
  void load_features() {
    const std::int64_t w = order_.window(k_), begin = s_->window_begin(w), rows = s_->window_end(w) - begin;
    window_x_ = s_->x.read(begin, rows);
    s_->feature_rows_read += rows;
    if (static_cast<std::int64_t>(rows_.size()) != rows) window_x_ = kept_rows(window_x_, begin);
    if (s_->options.prepare && window_x_.size() > 0) s_->options.prepare(window_x_);
  }

  // The rows of a window slab read from file row `begin` on that the split keeps (rows_).
  Tensor kept_rows(const Tensor& slab, std::int64_t begin) const {
    const std::int64_t width = slab.shape().numel() / std::max<std::int64_t>(slab.shape()[0], 1);
    Tensor out(slab.shape().without_batch().with_batch(static_cast<std::int64_t>(rows_.size())));
    for (std::size_t i = 0; i < rows_.size(); ++i)
      std::copy_n(slab.data() + (rows_[i] - begin) * width, width, out.data() + static_cast<std::int64_t>(i) * width);
    return out;
  }

  // Features of `wanted` (file row, sample) into x's sample rows, in ascending file order (one
  // selection), prepared; x's rows outside [first, end) are zero.
  void read_rows_of(std::vector<std::pair<std::int64_t, std::int64_t>>& wanted, Tensor& x, std::int64_t first,
                    std::int64_t end) {
    const std::int64_t xw = s_->sample.numel();
    std::fill(x.data(), x.data() + first * xw, 0.0f);
    std::fill(x.data() + end * xw, x.data() + x.size(), 0.0f);
    if (wanted.empty()) return;
    std::sort(wanted.begin(), wanted.end());
    std::vector<std::int64_t> rows;
    for (const auto& w : wanted) rows.push_back(w.first);
    Tensor part = s_->x.read(rows);
    s_->feature_rows_read += static_cast<std::int64_t>(rows.size());
    if (s_->options.prepare) s_->options.prepare(part);
    for (std::size_t j = 0; j < wanted.size(); ++j)
      std::copy_n(part.data() + static_cast<std::int64_t>(j) * xw, xw, x.data() + wanted[j].second * xw);
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
  std::vector<std::int64_t> rows_;   // file row of each of the window's samples
  Tensor window_x_, window_y_;       // window_x_ has no shape until load_features()
  std::int64_t held_ = 0;  // rows counted as resident for this reader
};

}  // namespace

Hdf5Source::Hdf5Source(const std::string& path, Hdf5SourceOptions options) {
  Hdf5Rows x(path, options.features), y(path, options.labels);
  state_ = std::make_shared<State>(State{path, std::move(options), std::move(x), std::move(y), {}, {}, 0, 0, 0, 0});
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
std::int64_t Hdf5Source::feature_rows_read() const { return state_->feature_rows_read; }

std::unique_ptr<SampleReader> Hdf5Source::open(const EpochOrder& order, std::int64_t start) const {
  if (start < 0 || start > size())
    throw Error("cannot start an epoch of '" + name() + "' at sample " + std::to_string(start) + ": it has " +
                std::to_string(size()) + " samples");
  return std::make_unique<Hdf5Reader>(state_, order, start);
}

}  // namespace weft::io
