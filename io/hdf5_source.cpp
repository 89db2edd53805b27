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
  std::vector<Hdf5Rows> xs;   // one dataset per model input
  Hdf5Rows y;
  std::vector<Shape> samples;  // per input: the per-sample shape served
  std::vector<std::int64_t> window_sizes;  // samples served by each window (after the split)
  std::int64_t size = 0;
  std::int64_t resident = 0, peak = 0;
  std::int64_t feature_rows_read = 0;

  std::int64_t rows() const { return y.size(); }
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
    return read_inputs(count, first, end, std::span<Tensor>(&x, 1), y);
  }

  std::int64_t read_inputs(std::int64_t count, std::int64_t first, std::int64_t end, std::span<Tensor> xs,
                           Tensor& y) override {
    if (xs.size() != s_->xs.size())
      throw Error("'" + s_->path + "' serves " + std::to_string(s_->xs.size()) + " inputs per sample, " +
                  std::to_string(xs.size()) + " were asked for");
    const std::int64_t n = std::min(count, remaining_);
    if (n <= 0) return 0;
    first = std::clamp<std::int64_t>(first, 0, n);
    end = std::clamp<std::int64_t>(end, first, n);
    const bool whole = first == 0 && end == n;
    const Shape ys = s_->y.sample_shape().with_batch(n);
    for (std::size_t k = 0; k < xs.size(); ++k)
      if (!(xs[k].shape() == s_->samples[k].with_batch(n))) xs[k].resize(s_->samples[k].with_batch(n));
    if (!(y.shape() == ys)) y.resize(ys);
    const std::int64_t yw = s_->y.sample_shape().numel();
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
        if (!features_loaded_) load_features();
        for (std::size_t k = 0; k < xs.size(); ++k) {
          const std::int64_t xw = s_->samples[k].numel();
          std::copy_n(window_xs_[k].data() + r * xw, xw, xs[k].data() + i * xw);
        }
      } else if (i >= first && i < end) {
        wanted.emplace_back(rows_[static_cast<std::size_t>(r)], i);
      }
    }
    if (!whole) read_rows_of(wanted, xs, first, end);
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

  // The current window's features (every input's), one slab each, kept rows only, prepared.
  void load_features() {
    const std::int64_t w = order_.window(k_), begin = s_->window_begin(w), rows = s_->window_end(w) - begin;
    window_xs_.clear();
    for (const auto& x : s_->xs) {
      window_xs_.push_back(x.read(begin, rows));
      if (static_cast<std::int64_t>(rows_.size()) != rows) window_xs_.back() = kept_rows(window_xs_.back(), begin);
    }
    s_->feature_rows_read += rows;
    for (std::size_t k = 0; k < window_xs_.size(); ++k)
      if (window_xs_[k].size() > 0) prepare(k, window_xs_[k]);
    features_loaded_ = true;
  }

  // Normalises input k's features as the options say: `prepare` for one input, the input's own
  // for several.
  void prepare(std::size_t k, Tensor& x) const {
    const auto& inputs = s_->options.inputs;
    const auto& f = inputs.empty() ? s_->options.prepare : inputs[k].prepare;
    if (f) f(x);
  }

  // The rows of a window slab read from file row `begin` on that the split keeps (rows_).
  Tensor kept_rows(const Tensor& slab, std::int64_t begin) const {
    const std::int64_t width = slab.shape().numel() / std::max<std::int64_t>(slab.shape()[0], 1);
    Tensor out(slab.shape().without_batch().with_batch(static_cast<std::int64_t>(rows_.size())));
    for (std::size_t i = 0; i < rows_.size(); ++i)
      std::copy_n(slab.data() + (rows_[i] - begin) * width, width, out.data() + static_cast<std::int64_t>(i) * width);
    return out;
  }

  // Features of `wanted` (file row, sample) into each input's sample rows, in ascending file
  // order (one selection per dataset), prepared; rows outside [first, end) are zero.
  void read_rows_of(std::vector<std::pair<std::int64_t, std::int64_t>>& wanted, std::span<Tensor> xs, std::int64_t first,
                    std::int64_t end) {
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const std::int64_t xw = s_->samples[k].numel();
      std::fill(xs[k].data(), xs[k].data() + first * xw, 0.0f);
      std::fill(xs[k].data() + end * xw, xs[k].data() + xs[k].size(), 0.0f);
    }
    if (wanted.empty()) return;
    std::sort(wanted.begin(), wanted.end());
    std::vector<std::int64_t> rows;
    for (const auto& w : wanted) rows.push_back(w.first);
    s_->feature_rows_read += static_cast<std::int64_t>(rows.size());
    for (std::size_t k = 0; k < xs.size(); ++k) {
      Tensor part = s_->xs[k].read(rows);
      prepare(k, part);
      const std::int64_t xw = s_->samples[k].numel();
      for (std::size_t j = 0; j < wanted.size(); ++j)
        std::copy_n(part.data() + static_cast<std::int64_t>(j) * xw, xw, xs[k].data() + wanted[j].second * xw);
    }
  }

  void release() {
    window_xs_.clear();
    features_loaded_ = false;
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
  std::vector<Tensor> window_xs_;   // per input; empty until load_features()
  Tensor window_y_;
  bool features_loaded_ = false;
  std::int64_t held_ = 0;  // rows counted as resident for this reader
};

}  // namespace

Hdf5Source::Hdf5Source(const std::string& path, Hdf5SourceOptions options) {
  // One input: `features`, served in sample_shape; several: one dataset per model input.
  std::vector<Hdf5Input> inputs = options.inputs;
  const bool several = !inputs.empty();
  if (!several) inputs.push_back({"", options.features, options.sample_shape});
  std::vector<Hdf5Rows> xs;
  for (const auto& in : inputs) {
    if (!several) {
      xs.emplace_back(path, in.dataset);
      continue;
    }
    try {
      xs.emplace_back(path, in.dataset);
    } catch (const IoError& e) {
      throw IoError(std::string(e.what()) + " (mapped to model input '" + in.input + "')");
    }
  }
  Hdf5Rows y(path, options.labels);
  state_ = std::make_shared<State>(State{path, std::move(options), std::move(xs), std::move(y), {}, {}, 0, 0, 0, 0});
  State& s = *state_;
  const auto& o = s.options;
  if (o.window_rows < 1) throw Error("a streaming window needs at least 1 row, got " + std::to_string(o.window_rows));
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Hdf5Rows& x = s.xs[k];
    const std::string& dataset = inputs[k].dataset;
    if (x.size() != s.y.size())
      throw IoError("HDF5 file '" + path + "': '" + dataset + "'" +
                    (several ? " (model input '" + inputs[k].input + "')" : "") + " has " + std::to_string(x.size()) +
                    " samples but '" + o.labels + "' has " + std::to_string(s.y.size()));
    const Shape sample = inputs[k].shape.rank() ? inputs[k].shape : x.sample_shape();
    if (sample.numel() != x.sample_shape().numel())
      throw ShapeError("HDF5 file '" + path + "': dataset '" + dataset + "' has samples of shape " +
                       x.sample_shape().str() + " (" + std::to_string(x.sample_shape().numel()) + " values); " +
                       (several ? "model input '" + inputs[k].input + "'" : o.expected_by) + " takes " + sample.str() +
                       " (" + std::to_string(sample.numel()) + " values)");
    s.samples.push_back(sample);
  }
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
Shape Hdf5Source::sample_shape() const { return state_->samples[0]; }
std::size_t Hdf5Source::input_count() const { return state_->xs.size(); }
Shape Hdf5Source::input_shape(std::size_t i) const { return state_->samples.at(i); }
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
