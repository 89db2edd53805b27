#pragma once
// A thin RAII layer over HDF5's C API for what weft stores: groups, float32 datasets, scalar
// attributes. HDF5's own error stack is silenced; every failure becomes an IoError that names
// the file and the object. Internal to weft (not installed).
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <string>
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

  void write_floats(const std::string& name, const Shape& shape, const float* data);
  void write_doubles(const std::string& name, const Shape& shape, const double* data);
  // Reads a float dataset; throws when it is missing or its shape differs from `expected`.
  void read_floats(const std::string& name, const Shape& expected, float* out) const;
  Shape dataset_shape(const std::string& name) const;

  void set_string_attribute(const std::string& object, const std::string& key, const std::string& value);
  void set_int_attribute(const std::string& object, const std::string& key, std::int64_t value);
  bool has_attribute(const std::string& object, const std::string& key) const;
  std::string string_attribute(const std::string& object, const std::string& key) const;
  std::int64_t int_attribute(const std::string& object, const std::string& key) const;

  void flush();

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::string path_;
  Hid file_;
};

// Replaces `target` by a file written through `write(temporary_path)`: the temporary sits in the
// same folder, is flushed to disk, then renamed over the target. A crash at any moment leaves
// either the old or the new file complete. On failure the temporary is removed and `target` is
// untouched.
void write_atomically(const std::string& target, const std::function<void(const std::string&)>& write);

// Turns off HDF5's automatic error-stack printing (once per process).
void silence_hdf5_errors();

}  // namespace weft::io
