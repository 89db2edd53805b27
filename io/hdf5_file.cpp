#include "hdf5_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <zlib.h>

#include "weft/error.hpp"

namespace weft::io {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = path.find('/', start);
    const auto part = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) parts.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

// Fixed-length strings of `bytes` (>= 1), padded with NULs: the only text weft writes or reads.
// It lives in the (checksummed) object header. Variable-length strings live in a global heap,
// which HDF5 1.10 reads without checks: a corrupt heap object length made H5Aread copy past its
// buffers (found by fuzz_checkpoint), so string_attribute() refuses them without reading.
Hid fixed_string_type(std::size_t bytes) {
  Hid t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), bytes);
  H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

// Files weft writes use HDF5's 1.8 format or newer: version-2 object headers, B-trees and heaps
// carry checksums, so a damaged structure is refused by HDF5 itself instead of being parsed.
Hid checksummed_format() {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  return fapl;
}

std::uint32_t crc32_of(const void* data, std::size_t bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(data);
  // zlib takes the length as uInt: feed large tensors in pieces.
  constexpr std::size_t piece = std::size_t{1} << 30;
  for (std::size_t done = 0; done < bytes; done += piece)
    crc = ::crc32(crc, p + done, static_cast<uInt>(std::min(piece, bytes - done)));
  return static_cast<std::uint32_t>(crc);
}

void sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void silence_hdf5_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

Hid& Hid::operator=(Hid&& o) noexcept {
  if (this != &o) {
    if (id_ >= 0 && close_) close_(id_);
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
  }
  return *this;
}

Hid::~Hid() {
  if (id_ >= 0 && close_) close_(id_);
}

H5File::H5File(const std::string& path, char mode) : path_(path) {
  silence_hdf5_errors();
  if (mode == 'w') {
    const Hid fapl = checksummed_format();
    file_ = Hid(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
    if (!file_.valid()) throw IoError("cannot create HDF5 file '" + path + "'");
    return;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw IoError("cannot open '" + path + "': no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError("'" + path + "' is not an HDF5 file (or is truncated or corrupt)");
  file_ = Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file_.valid()) throw IoError("cannot open HDF5 file '" + path + "': it is truncated or corrupt");
  opened_size_ = std::filesystem::file_size(path, ec);
}

void H5File::fail(const std::string& what) const { throw IoError("HDF5 file '" + path_ + "': " + what); }

bool H5File::exists(const std::string& object) const {
  std::string prefix;
  for (const auto& part : split_path(object)) {
    prefix += "/" + part;
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

void H5File::make_groups(const std::string& path) {
  std::string prefix;
  for (const auto& part : split_path(path)) {
    prefix += "/" + part;
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) > 0) continue;
    Hid g(H5Gcreate2(file_.get(), prefix.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    if (!g.valid()) fail("cannot create group '" + prefix + "'");
  }
}

std::vector<std::string> H5File::members(const std::string& group) const {
  std::vector<std::string> names;
  if (!exists(group)) return names;
  Hid g(H5Gopen2(file_.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) fail("'" + group + "' is not a group");
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  if (H5Literate(g.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) < 0)
    fail("cannot list the members of '" + group + "'");
  return names;
}

std::vector<std::string> H5File::datasets_under(const std::string& group) const {
  std::vector<std::string> found;
  // weft nests at most three levels; the bound also stops at links that loop back up.
  constexpr int max_depth = 8;
  std::function<void(const std::string&, const std::string&, int)> visit = [&](const std::string& full,
                                                                               const std::string& relative, int depth) {
    if (depth > max_depth) fail("'" + full + "' is nested too deeply (a link loop?)");
    for (const auto& name : members(full)) {
      const std::string child = full + "/" + name;
      Hid object(H5Oopen(file_.get(), child.c_str(), H5P_DEFAULT), H5Oclose);
      if (!object.valid()) fail("cannot open '" + child + "' (the file is truncated or corrupt)");
      const auto kind = H5Iget_type(object.get());
      const std::string path = relative.empty() ? name : relative + "/" + name;
      if (kind == H5I_DATASET) found.push_back(path);
      if (kind == H5I_GROUP) visit(child, path, depth + 1);
    }
  };
  visit(group, "", 0);
  return found;
}

namespace {
static_assert(std::endian::native == std::endian::little, "the CRC-32 of a dataset is taken over its little-endian bytes");

void write_dataset(H5File& f, hid_t file, const std::string& name, const Shape& shape, hid_t file_type, hid_t mem_type,
                   const void* data, std::size_t element_bytes) {
  std::vector<hsize_t> dims(shape.dims().begin(), shape.dims().end());
  Hid space(shape.rank() ? H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr) : H5Screate(H5S_SCALAR),
            H5Sclose);
  Hid lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Hid ds(H5Dcreate2(file, name.c_str(), file_type, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!ds.valid() || H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    throw IoError("HDF5 file '" + f.path() + "': cannot write dataset '" + name + "'");
  f.set_int_attribute(name, "crc32", crc32_of(data, static_cast<std::size_t>(shape.numel()) * element_bytes));
}
}  // namespace

void H5File::write_floats(const std::string& name, const Shape& shape, const float* data) {
  write_dataset(*this, file_.get(), name, shape, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, sizeof(float));
}

void H5File::write_doubles(const std::string& name, const Shape& shape, const double* data) {
  write_dataset(*this, file_.get(), name, shape, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, sizeof(double));
}

Shape H5File::dataset_shape(const std::string& name) const {
  if (!exists(name)) fail("missing dataset '" + name + "'");
  Hid ds(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) fail("'" + name + "' is not a dataset");
  Hid space(H5Dget_space(ds.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > static_cast<int>(Shape::max_rank)) fail("dataset '" + name + "' has an unreadable shape");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<std::int64_t> d(dims.begin(), dims.end());
  return Shape(std::span<const std::int64_t>(d));
}

void H5File::read_floats(const std::string& name, const Shape& expected, float* out) const {
  const Shape actual = dataset_shape(name);
  if (!(actual == expected))
    fail("dataset '" + name + "' has shape " + actual.str() + ", expected " + expected.str());
  read_checked(name, H5T_NATIVE_FLOAT, static_cast<std::size_t>(expected.numel()) * sizeof(float), out);
}

std::vector<double> H5File::read_doubles(const std::string& name) const {
  std::vector<double> out(static_cast<std::size_t>(dataset_shape(name).numel()));
  read_checked(name, H5T_NATIVE_DOUBLE, out.size() * sizeof(double), out.data());
  return out;
}

void H5File::read_rows(const std::string& name, std::int64_t begin, std::int64_t count, float* out) const {
  read_row_runs(name, {{begin, count}}, out);
}

void H5File::read_row_runs(const std::string& name, const std::vector<std::pair<std::int64_t, std::int64_t>>& runs,
                           float* out) const {
  if (runs.empty()) return;
  const std::int64_t first = runs.front().first, last = runs.back().first + runs.back().second;
  const std::string rows = runs.size() == 1
                               ? "rows [" + std::to_string(first) + ", " + std::to_string(last) + ") of dataset '" + name + "'"
                               : std::to_string(runs.size()) + " runs of rows in [" + std::to_string(first) + ", " +
                                     std::to_string(last) + ") of dataset '" + name + "'";
  std::error_code ec;
  const auto size_now = std::filesystem::file_size(path_, ec);
  if (ec || size_now < opened_size_)
    fail("cannot read " + rows + ": the file shrank from " + std::to_string(opened_size_) + " to " +
         (ec ? std::string("nothing") : std::to_string(size_now)) + " bytes since it was opened (truncated)");
  const Shape shape = dataset_shape(name);
  std::int64_t total = 0, end = 0;
  for (const auto& [begin, count] : runs) {
    if (shape.rank() == 0 || begin < end || count < 0 || begin + count > shape[0])
      fail("dataset '" + name + "' of shape " + shape.str() + " has no rows [" + std::to_string(begin) + ", " +
           std::to_string(begin + count) + ")" + (begin < end ? " after the rows before (runs must ascend)" : ""));
    end = begin + count;
    total += count;
  }
  Hid ds(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  Hid type(H5Dget_type(ds.get()), H5Tclose);
  const auto kind = H5Tget_class(type.get());
  if (kind != H5T_FLOAT && kind != H5T_INTEGER) fail("dataset '" + name + "' does not hold numbers");
  if (total == 0) return;
  Hid space(H5Dget_space(ds.get()), H5Sclose);
  std::vector<hsize_t> start(shape.rank(), 0), extent(shape.dims().begin(), shape.dims().end());
  bool selected = true, any = false;
  for (const auto& [begin, count] : runs) {
    if (count == 0) continue;
    start[0] = static_cast<hsize_t>(begin);
    extent[0] = static_cast<hsize_t>(count);
    selected = selected && H5Sselect_hyperslab(space.get(), any ? H5S_SELECT_OR : H5S_SELECT_SET, start.data(), nullptr,
                                               extent.data(), nullptr) >= 0;
    any = true;
  }
  extent[0] = static_cast<hsize_t>(total);
  Hid memory(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr), H5Sclose);
  if (!selected || H5Dread(ds.get(), H5T_NATIVE_FLOAT, memory.get(), space.get(), H5P_DEFAULT, out) < 0)
    fail("cannot read " + rows + " (the file is truncated or corrupt)");
}

void H5File::read_checked(const std::string& name, hid_t mem_type, std::size_t bytes, void* out) const {
  Hid ds(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  Hid type(H5Dget_type(ds.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_FLOAT) fail("dataset '" + name + "' does not hold floating-point numbers");
  if (H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    fail("cannot read dataset '" + name + "' (the file is truncated or corrupt)");
  // The checksum holds for the bytes as written (same element type); a file written by another
  // tool may have none.
  if (has_attribute(name, "crc32") && H5Tget_size(type.get()) == H5Tget_size(mem_type)) {
    const auto stored = int_attribute(name, "crc32");
    const auto actual = crc32_of(out, bytes);
    if (stored != actual)
      fail("dataset '" + name + "' is corrupt: its data does not match its stored CRC-32 (" + std::to_string(stored) +
           " stored, " + std::to_string(actual) + " read)");
  }
}

void H5File::write_scalar_attribute(const std::string& object, const std::string& key, hid_t file_type, hid_t mem_type,
                                    const void* value) {
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  Hid attr(H5Acreate_by_name(file_.get(), object.c_str(), key.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
           H5Aclose);
  if (!attr.valid() || H5Awrite(attr.get(), mem_type, value) < 0)
    fail("cannot write attribute '" + key + "' on '" + object + "'");
}

void H5File::set_string_attribute(const std::string& object, const std::string& key, const std::string& value) {
  Hid type = fixed_string_type(std::max<std::size_t>(value.size(), 1));
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  write_scalar_attribute(object, key, type.get(), type.get(), padded.data());
}

void H5File::set_int_attribute(const std::string& object, const std::string& key, std::int64_t value) {
  write_scalar_attribute(object, key, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void H5File::set_double_attribute(const std::string& object, const std::string& key, double value) {
  write_scalar_attribute(object, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

bool H5File::has_attribute(const std::string& object, const std::string& key) const {
  if (!exists(object)) return false;
  const htri_t found = H5Aexists_by_name(file_.get(), object.c_str(), key.c_str(), H5P_DEFAULT);
  // An object whose header cannot be read (a failed checksum) is damage, not a missing attribute.
  if (found < 0) fail("cannot read the attributes of '" + object + "': the file is corrupt");
  return found > 0;
}

std::string H5File::string_attribute(const std::string& object, const std::string& key) const {
  if (!has_attribute(object, key)) fail("missing attribute '" + key + "' on '" + object + "'");
  Hid attr(H5Aopen_by_name(file_.get(), object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Hid type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) fail("attribute '" + key + "' on '" + object + "' is not a string");
  if (H5Tis_variable_str(type.get()) != 0)
    fail("attribute '" + key + "' on '" + object + "' is a variable-length string; weft files hold fixed-length " +
         "text (this file was written by another program, or by a weft older than its checksummed format)");
  const std::size_t size = H5Tget_size(type.get());
  if (size == 0 || (opened_size_ > 0 && size > opened_size_))
    fail("attribute '" + key + "' on '" + object + "' claims " + std::to_string(size) + " bytes in a file of " +
         std::to_string(opened_size_));
  std::string out(size, '\0');
  // Read as stored (its padding and character set): HDF5 converts no string between character sets.
  Hid mem(H5Tcopy(type.get()), H5Tclose);
  if (H5Aread(attr.get(), mem.get(), out.data()) < 0) fail("cannot read attribute '" + key + "'");
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::int64_t H5File::int_attribute(const std::string& object, const std::string& key) const {
  if (!has_attribute(object, key)) fail("missing attribute '" + key + "' on '" + object + "'");
  Hid attr(H5Aopen_by_name(file_.get(), object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Hid type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_INTEGER) fail("attribute '" + key + "' on '" + object + "' is not an integer");
  std::int64_t value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) fail("cannot read attribute '" + key + "'");
  return value;
}

double H5File::double_attribute(const std::string& object, const std::string& key) const {
  if (!has_attribute(object, key)) fail("missing attribute '" + key + "' on '" + object + "'");
  Hid attr(H5Aopen_by_name(file_.get(), object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Hid type(H5Aget_type(attr.get()), H5Tclose);
  const auto kind = H5Tget_class(type.get());
  if (kind != H5T_FLOAT && kind != H5T_INTEGER) fail("attribute '" + key + "' on '" + object + "' is not a number");
  double value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0) fail("cannot read attribute '" + key + "'");
  return value;
}

void H5File::flush() {
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) fail("cannot flush to disk");
}

namespace {

std::string temporary_prefix(const std::string& target) {
  // Appended piecewise: GCC 12 reports a false -Wrestrict on "." + std::string&&.
  std::string prefix = ".";
  prefix += std::filesystem::path(target).filename().string();
  prefix += ".weft-tmp.";
  return prefix;
}

void remove_stale_temporaries(const std::string& target) {
  namespace fs = std::filesystem;
  const fs::path path(target);
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string prefix = temporary_prefix(target);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    // ".<name>.weft-tmp.<pid>.<random>": stale when its writer no longer runs.
    const std::string rest = name.substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 || dot > 9 || rest.find_first_not_of("0123456789") != dot) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(rest.substr(0, dot)));
    if (::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

}  // namespace

void write_atomically(const std::string& target, const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  const fs::path path(target);
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  // Temporaries left by a writer that was killed are recognisable by name; remove them first.
  remove_stale_temporaries(target);
  // A hidden name beside the target: same file system, so rename() is atomic.
  std::string temp = (dir / temporary_prefix(target)).string() + std::to_string(::getpid()) + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) throw IoError("cannot write '" + target + "': cannot create a temporary file in '" + dir.string() + "': " + std::strerror(errno));
  ::fchmod(fd, 0644);  // mkstemp makes it private; a checkpoint is an ordinary file
  ::close(fd);
  try {
    write(temp);
    sync_path(temp, O_RDONLY);
    if (std::rename(temp.c_str(), target.c_str()) != 0)
      throw IoError("cannot move the new file over '" + target + "': " + std::strerror(errno));
    sync_path(dir.string(), O_RDONLY | O_DIRECTORY);
  } catch (...) {
    std::remove(temp.c_str());
    throw;
  }
}

}  // namespace weft::io
