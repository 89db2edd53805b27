#pragma once
// DataSource: where the Trainer takes its samples from (fit, train_epoch, evaluate).
//
// The seam is "open an epoch, then read it front to back, a batch at a time":
//
//   size(), sample_shape(), target_shape(), name()   what the samples are;
//   open(order, start) -> SampleReader                the epoch's samples from the start-th on;
//   SampleReader::read(count, x, y)                   the next `count` of them, copied into x, y.
//   input_count(), input_shape(i), read_inputs(...)   the same for a model with several inputs:
//                                                     one features tensor per model input.
//
// Why not "read rows [begin, count)" or "gather these indices"? Because the order of an epoch is
// the source's business: random access is free in memory and expensive on disk, so an in-memory
// source shuffles every sample while a streamed one shuffles windows and the rows inside each
// window (see WindowedOrder). What both promise, and what the Trainer relies on:
//
// - the order is a pure function of (seed, epoch) (or stored order without shuffling), so the
//   same seed gives the same bits for any thread count;
// - open(order, start) begins at the start-th sample of that same order, so a run resumed in
//   the middle of an epoch sees exactly the samples the uninterrupted run would have seen;
// - a reader copies into the caller's tensors, so the caller owns the batch buffers and the
//   source holds at most what it needs to serve the next read (a streamed source: one window).
//
// Evaluation opens the stored order (no shuffling) and reads to the end.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "weft/dataset.hpp"
#include "weft/shape.hpp"
#include "weft/tensor.hpp"

namespace weft {

// Which order an epoch reads its samples in: everything a source needs to reproduce it.
struct EpochOrder {
  bool shuffle = false;  // false: the stored order
  std::uint64_t seed = 0;  // the run's seed (TrainOptions::seed)
  std::int64_t epoch = 0;  // 0-based
};

// One pass over an epoch's samples, front to back (DataSource::open makes one).
class SampleReader {
 public:
  virtual ~SampleReader() = default;
  // Copies the next min(count, remaining) samples into x (k, sample...) and y (k, target...),
  // resizing them when their shape differs, and returns k (0 at the end of the epoch).
  virtual std::int64_t read(std::int64_t count, Tensor& x, Tensor& y) = 0;
  // The same, for a process that runs only samples [first, end) of these k (one rank of a
  // data-parallel run, weft/executor.hpp): x's other rows may be left zero, so a source on disk
  // reads only this rank's features. y is always whole (a weighted loss's denominator and the
  // metrics span the batch). By default the whole batch is read.
  virtual std::int64_t read_part(std::int64_t count, std::int64_t first, std::int64_t end, Tensor& x, Tensor& y) {
    (void)first;
    (void)end;
    return read(count, x, y);
  }
  // The same for a source with several inputs (DataSource::input_count()): xs[i] receives input
  // i's features. By default (a one-input source) xs must hold one tensor and read_part fills it.
  virtual std::int64_t read_inputs(std::int64_t count, std::int64_t first, std::int64_t end, std::span<Tensor> xs,
                                   Tensor& y);
};

// Where the Trainer takes its samples from (see the file comment for the promises every source
// keeps). Implementations: InMemorySource, OwnedInMemorySource, io::Hdf5Source.
class DataSource {
 public:
  virtual ~DataSource() = default;
  virtual std::int64_t size() const = 0;  // samples per epoch
  virtual Shape sample_shape() const = 0;  // one sample's features, as the model receives them
  virtual Shape target_shape() const = 0;  // one sample's target (() for a class label)
  virtual std::string name() const = 0;    // for messages: "train", a file name
  // Features tensors per sample: one per model input (1 unless the source serves several).
  virtual std::size_t input_count() const { return 1; }
  // Input i's per-sample shape (input 0: sample_shape()).
  virtual Shape input_shape(std::size_t i) const {
    (void)i;
    return sample_shape();
  }
  // The samples of one epoch in `order`, from the `start`-th one (0 <= start <= size()).
  virtual std::unique_ptr<SampleReader> open(const EpochOrder& order, std::int64_t start) const = 0;
};

// A Dataset in memory, borrowed (it must outlive the source and its readers). Epoch order:
// shuffled_indices(size, seed, epoch), a full shuffle.
class InMemorySource final : public DataSource {
 public:
  explicit InMemorySource(const Dataset& data) : data_(data) {}  // borrows `data`
  std::int64_t size() const override { return data_.size(); }  // the dataset's samples
  Shape sample_shape() const override { return data_.x.shape().without_batch(); }
  Shape target_shape() const override { return data_.y.shape().without_batch(); }
  std::string name() const override { return data_.name; }
  std::size_t input_count() const override { return data_.input_count(); }
  Shape input_shape(std::size_t i) const override { return data_.input(i).shape().without_batch(); }
  std::unique_ptr<SampleReader> open(const EpochOrder& order, std::int64_t start) const override;

 private:
  const Dataset& data_;
};

// A Dataset held by the source itself (for code that hands sources around by pointer).
class OwnedInMemorySource final : public DataSource {
 public:
  explicit OwnedInMemorySource(Dataset data) : data_(std::move(data)), view_(data_) {}  // takes `data`
  const Dataset& data() const { return data_; }  // the dataset it holds
  std::int64_t size() const override { return view_.size(); }  // the dataset's samples
  Shape sample_shape() const override { return view_.sample_shape(); }
  Shape target_shape() const override { return view_.target_shape(); }
  std::string name() const override { return view_.name(); }
  std::size_t input_count() const override { return view_.input_count(); }
  Shape input_shape(std::size_t i) const override { return view_.input_shape(i); }
  std::unique_ptr<SampleReader> open(const EpochOrder& order, std::int64_t start) const override {
    return view_.open(order, start);
  }

 private:
  Dataset data_;
  InMemorySource view_;
};

// The epoch order of a source that is read window by window (consecutive runs of stored rows
// that fit the memory budget): the windows are visited in an order permuted from (seed, epoch),
// and the rows of each window in an order permuted from (seed, epoch, window). Only one window
// needs to be in memory, and every row is read from disk once per epoch in large slabs.
//
// This is not the in-memory order (a row can only move within its window), except that one
// window (W >= n) degenerates to exactly shuffled_indices(n, seed, epoch): a full shuffle, the
// same order as InMemorySource. Without shuffling, windows and rows keep their stored order.
//
// Window w holds `sizes[w]` samples (a window may serve fewer samples than it spans rows, when a
// validation split takes some of them; the source maps samples to rows).
class WindowedOrder {
 public:
  // `sizes`: the samples of each window, in stored order.
  WindowedOrder(std::vector<std::int64_t> sizes, const EpochOrder& order);
  std::int64_t windows() const { return static_cast<std::int64_t>(visit_.size()); }  // = sizes.size()
  // The window visited k-th.
  std::int64_t window(std::int64_t k) const { return visit_[static_cast<std::size_t>(k)]; }
  // The order of window w's samples: a permutation of [0, sizes[w]).
  std::vector<std::int64_t> inside(std::int64_t w) const;
  // Where the start-th sample of the epoch is: (k, offset) with window(k) the window and offset
  // the index into inside(window(k)). start == total samples gives (windows(), 0).
  std::pair<std::int64_t, std::int64_t> locate(std::int64_t start) const;

 private:
  std::vector<std::int64_t> sizes_, visit_;
  EpochOrder order_;
};

}  // namespace weft
