#pragma once
// Datasets in HDF5 files written by other tools (h5py, PyTorch scripts): the user names the
// dataset of inputs (n, ...) and the dataset of targets (n) or (n, ...); any integer or float
// type is read as float32.
#include <cstdint>
#include <string>
#include <vector>

#include "weft/dataset.hpp"

namespace weft::io {

// Reads both datasets whole. Throws IoError naming the file and dataset when one is missing,
// is not numeric, or their first axes differ.
Dataset read_hdf5_dataset(const std::string& path, const std::string& features, const std::string& labels);

// One dataset read slab by slab along its first axis, so a file larger than memory streams from
// disk (prediction reads `chunk` samples at a time).
class Hdf5Rows {
 public:
  // Opens `dataset` in the file at `path`, reading only its shape; throws IoError naming both
  // when the file cannot be read, the dataset is missing or it is a scalar.
  Hdf5Rows(const std::string& path, const std::string& dataset);
  ~Hdf5Rows();
  Hdf5Rows(Hdf5Rows&&) noexcept;  // takes over the open file
  std::int64_t size() const { return shape_[0]; }  // samples (the first axis)
  Shape sample_shape() const { return shape_.without_batch(); }  // one sample's shape
  // Samples [begin, begin + count) as a tensor (count, sample...).
  Tensor read(std::int64_t begin, std::int64_t count) const;
  // The samples at `rows` (ascending, distinct) as a tensor (rows.size(), sample...): only they
  // are read from disk, consecutive ones as one run.
  Tensor read(const std::vector<std::int64_t>& rows) const;

 private:
  struct File;
  std::unique_ptr<File> file_;
  std::string dataset_;
  Shape shape_;
};

}  // namespace weft::io
