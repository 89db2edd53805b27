#include "weft/io/hdf5_dataset.hpp"

#include "hdf5_file.hpp"

namespace weft::io {

struct Hdf5Rows::File {
  H5File h5;
};

Hdf5Rows::Hdf5Rows(const std::string& path, const std::string& dataset)
    : file_(std::make_unique<File>(File{H5File(path, 'r')})), dataset_(dataset) {
  if (!file_->h5.exists(dataset))
    throw IoError("HDF5 file '" + path + "' has no dataset '" + dataset + "'");
  shape_ = file_->h5.dataset_shape(dataset);
  if (shape_.rank() == 0) throw IoError("HDF5 file '" + path + "': dataset '" + dataset + "' is a scalar; expected one row per sample");
}

Hdf5Rows::~Hdf5Rows() = default;
Hdf5Rows::Hdf5Rows(Hdf5Rows&&) noexcept = default;

Tensor Hdf5Rows::read(std::int64_t begin, std::int64_t count) const {
  Tensor out(sample_shape().with_batch(count));
  file_->h5.read_rows(dataset_, begin, count, out.data());
  return out;
}

Tensor Hdf5Rows::read(const std::vector<std::int64_t>& rows) const {
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;
  for (const std::int64_t row : rows) {
    if (!runs.empty() && runs.back().first + runs.back().second == row) ++runs.back().second;
    else runs.emplace_back(row, 1);
  }
  Tensor out(sample_shape().with_batch(static_cast<std::int64_t>(rows.size())));
  file_->h5.read_row_runs(dataset_, runs, out.data());
  return out;
}

Dataset read_hdf5_dataset(const std::string& path, const std::string& features, const std::string& labels) {
  const Hdf5Rows x(path, features), y(path, labels);
  if (x.size() != y.size())
    throw IoError("HDF5 file '" + path + "': '" + features + "' has " + std::to_string(x.size()) + " samples but '" +
                  labels + "' has " + std::to_string(y.size()));
  return {x.read(0, x.size()), y.read(0, y.size()), path};
}

}  // namespace weft::io
