#pragma once
// Hdf5Source: a DataSource streamed from an HDF5 file larger than memory.
//
// The file's rows are cut into windows of `window_rows` consecutive rows (from a memory budget:
// window_rows_for). An epoch visits the windows in an order permuted from (seed, epoch), reads
// each one with one hyperslab read per dataset, and serves its rows in an order permuted from
// (seed, epoch, window): WindowedOrder (weft/data_source.hpp). Only the current window is held
// in memory. The order differs from the in-memory full shuffle; a window that holds the whole
// file (window_rows >= rows) gives exactly the in-memory order.
//
// A seeded split selects rows without reading them: row r belongs to the validation part when
// a uniform draw keyed by (seed, r) is below the fraction (RowSplit). The two parts are
// disjoint, cover the file, and each keeps the stored order; the held-out share is the fraction
// only on average (the in-memory split_validation holds out an exact count instead).
//
// A model with several inputs reads one dataset per input (Hdf5SourceOptions::inputs), all
// cut into the same windows and served in the same order: row r of every dataset is sample r.
//
// Every read checks that the file has not shrunk since it was opened; a failed read names the
// file, the dataset and the row range.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "weft/data_source.hpp"

namespace weft::io {

// Which rows of the file a source serves when a validation part is held out (see above).
struct RowSplit {
  double fraction = 0;    // 0: no split, every row belongs to the source
  std::uint64_t seed = 0; // keys the draw; the same seed gives the same split in every run
  bool held_out = false;  // true: serve the validation rows; false: the training rows
  bool keeps(std::int64_t row) const;  // whether `row` belongs to the part this split serves
};

// One model input's dataset (Hdf5SourceOptions::inputs).
struct Hdf5Input {
  std::string input;    // the model input's name, for messages
  std::string dataset;  // the dataset in the file (n, ...)
  Shape shape;          // the model input's per-sample shape: served in it (same value count)
  // Applied to this input's features of each window (n, stored sample...) right after reading:
  // its normalisation. Empty: none.
  std::function<void(Tensor&)> prepare = {};
};

// What Hdf5Source reads and how.
struct Hdf5SourceOptions {
  std::string features = "features";  // dataset of inputs (n, ...)
  std::string labels = "labels";      // dataset of targets (n) or (n, ...)
  std::int64_t window_rows = 1 << 16;  // rows per window (at least 1)
  RowSplit split;                      // which rows to serve (default: all)
  Shape sample_shape;                  // serve features in this shape (same value count); empty: as stored
  std::string expected_by = "the model";  // names who wants sample_shape, for the error
  // Applied to each window's features (n, stored sample...) right after reading: normalisation.
  // Only for one input (with `inputs`, each input's own prepare applies).
  std::function<void(Tensor&)> prepare;
  // Several-input models: one dataset per model input, in the model's input order. When given,
  // it replaces features, sample_shape and expected_by.
  std::vector<Hdf5Input> inputs;
};

// A DataSource streamed window by window from an HDF5 file (see the file comment).
class Hdf5Source final : public DataSource {
 public:
  // Opens the file and checks the datasets: present, numeric, the same row count, features of
  // sample_shape's size (each input's shape). Throws IoError / ShapeError naming the file, the
  // dataset and (several inputs) the model input.
  Hdf5Source(const std::string& path, Hdf5SourceOptions options);
  ~Hdf5Source() override;

  std::int64_t size() const override;
  Shape sample_shape() const override;
  Shape target_shape() const override;
  std::string name() const override;
  std::size_t input_count() const override;
  Shape input_shape(std::size_t i) const override;
  std::unique_ptr<SampleReader> open(const EpochOrder& order, std::int64_t start) const override;

  std::int64_t rows() const;  // rows in the file (both parts of a split)
  std::int64_t window_rows() const;  // as in the options
  // Rows held in window buffers by this source's readers, now and at most so far.
  std::int64_t resident_rows() const;
  std::int64_t peak_resident_rows() const;  // the most resident_rows() has been
  // Rows whose features this source's readers have read from the file so far: whole windows
  // when whole batches are read, only the rows asked for by SampleReader::read_part.
  std::int64_t feature_rows_read() const;

  struct State;  // shared with the readers (defined in hdf5_source.cpp)

 private:
  std::shared_ptr<State> state_;
};

// Rows per window so that one window of float32 features and targets fits `budget_bytes`
// (at least 1).
std::int64_t window_rows_for(std::int64_t budget_bytes, const Shape& sample, const Shape& target);

}  // namespace weft::io
