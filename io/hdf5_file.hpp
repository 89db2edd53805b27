#pragma once
// A thin RAII layer over HDF5's C API for what weft stores: groups, float32 datasets, scalar
// attributes. HDF5's own error stack is silenced; every failure becomes an IoError that names
// the file and the object. Internal to weft (not installed).
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "weft/tensor.hpp"

namespace weft::io {

class Hid {
 public:
  Hid() = default;
  Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Hid(Hid&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Hid& operator=(Hid&& o) noexcept;
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid();
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

class H5File {
 public:
  // mode: 'r' read, 'w' create/truncate.
  H5File(const std::string& path, char mode);
  const std::string& path() const { return path_; }
  hid_t id() const { return file_.get(); }

  bool exists(const std::string& object) const;
  // Creates every missing group along `path` ("a/b/c").
  void make_groups(const std::string& path);
  // Names of the members of a group, in HDF5's (alphabetical) order.
  std::vector<std::string> members(const std::string& group) const;
  // Every dataset below `group`, at any depth, as paths relative to it ("dense_0/weight").
  std::vector<std::string> datasets_under(const std::string& group) const;

  // Each dataset written carries an attribute "crc32": the CRC-32 (zlib's) of its little-endian
  // bytes, so damage inside the data is detected when it is read back.
  void write_floats(const std::string& name, const Shape& shape, const float* data);
  void write_doubles(const std::string& name, const Shape& shape, const double* data);
  // Reads a float dataset; throws when it is missing, its shape differs from `expected`, or its
  // data does not match its "crc32" attribute (when it has one).
  void read_floats(const std::string& name, const Shape& expected, float* out) const;
  // Reads a float64 dataset of any shape (checked like read_floats).
  std::vector<double> read_doubles(const std::string& name) const;
  Shape dataset_shape(const std::string& name) const;
  // Rows [begin, begin + count) along the first axis of a numeric dataset (integers or floats of
  // any width, converted to float32): reads only that slab from disk. No checksum check.
  // Throws IoError naming the dataset and the rows when the read fails or the file has shrunk
  // since it was opened (HDF5 would read the missing bytes of a truncated file as zeros).
  void read_rows(const std::string& name, std::int64_t begin, std::int64_t count, float* out) const;
  // Several runs of rows, each {begin, count}, ascending and disjoint, in one selection (HDF5
  // reads only them, in as few disk accesses as it can): stored one after another in out.
  // Checked and reported like read_rows.
  void read_row_runs(const std::string& name, const std::vector<std::pair<std::int64_t, std::int64_t>>& runs,
                     float* out) const;

  void set_string_attribute(const std::string& object, const std::string& key, const std::string& value);
  void set_int_attribute(const std::string& object, const std::string& key, std::int64_t value);
  void set_double_attribute(const std::string& object, const std::string& key, double value);
  bool has_attribute(const std::string& object, const std::string& key) const;
  // Fixed-length text only: a variable-length string is refused unread (see hdf5_file.cpp).
  std::string string_attribute(const std::string& object, const std::string& key) const;
  std::int64_t int_attribute(const std::string& object, const std::string& key) const;
  double double_attribute(const std::string& object, const std::string& key) const;

  void flush();

 private:
  [[noreturn]] void fail(const std::string& what) const;
  // Creates attribute `key` on `object` as a scalar of `file_type` holding *value (of `mem_type`).
  void write_scalar_attribute(const std::string& object, const std::string& key, hid_t file_type, hid_t mem_type,
                              const void* value);
  void read_checked(const std::string& name, hid_t mem_type, std::size_t bytes, void* out) const;
  std::string path_;
  Hid file_;
  std::uintmax_t opened_size_ = 0;  // bytes on disk when opened for reading
};

// Replaces `target` by a file written through `write(temporary_path)`: the temporary sits in the
// same folder, is flushed to disk, then renamed over the target. A crash at any moment leaves
// either the old or the new file complete. On failure the temporary is removed and `target` is
// untouched. The temporary is named ".<target name>.weft-tmp.<pid>.<random>"; temporaries of
// the same target whose process no longer runs (killed while saving) are removed first.
void write_atomically(const std::string& target, const std::function<void(const std::string&)>& write);

// Turns off HDF5's automatic error-stack printing (once per process).
void silence_hdf5_errors();

}  // namespace weft::io
