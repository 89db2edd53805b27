#include "weft/io/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <vector>

#include "weft/error.hpp"

namespace weft::io {
namespace {

// An IDX file opened for reading, inflated on the fly when it is gzip-compressed (gzread passes
// plain files through). Reads are bounded by what the header promises, so a small compressed
// file that inflates to gigabytes (a gzip bomb) is refused after one byte too many.
class IdxStream {
 public:
  explicit IdxStream(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) throw IoError("cannot open IDX file '" + path + "': " + std::strerror(errno));
  }
  ~IdxStream() { gzclose(file_); }
  IdxStream(const IdxStream&) = delete;
  IdxStream& operator=(const IdxStream&) = delete;

  // Appends up to `count` bytes to `out`; returns how many there were before the end of the file.
  std::size_t append(std::vector<unsigned char>& out, std::size_t count) {
    const std::size_t before = out.size();
    constexpr std::size_t chunk = 1 << 16;
    while (out.size() - before < count) {
      const std::size_t want = std::min(chunk, count - (out.size() - before));
      const std::size_t at = out.size();
      out.resize(at + want);
      const int n = gzread(file_, out.data() + at, static_cast<unsigned>(want));
      if (n < 0) {
        int code = 0;
        throw IoError("IDX file '" + path_ + "' is corrupt or truncated: " + gzerror(file_, &code));
      }
      out.resize(at + static_cast<std::size_t>(n));
      if (n == 0) break;
    }
    return out.size() - before;
  }

 private:
  std::string path_;
  gzFile file_;
};

std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

std::size_t type_size(unsigned char code) {
  switch (code) {
    case 0x08: case 0x09: return 1;  // unsigned / signed byte
    case 0x0B: return 2;             // short
    case 0x0C: case 0x0D: return 4;  // int, float
    case 0x0E: return 8;             // double
    default: return 0;
  }
}

float element(const unsigned char* p, unsigned char code) {
  switch (code) {
    case 0x08: return float(*p);
    case 0x09: return float(static_cast<signed char>(*p));
    case 0x0B: return float(static_cast<std::int16_t>((p[0] << 8) | p[1]));
    case 0x0C: return float(static_cast<std::int32_t>(big_endian_u32(p)));
    case 0x0D: { std::uint32_t u = big_endian_u32(p); float f; std::memcpy(&f, &u, 4); return f; }
    default: {
      std::uint64_t u = (std::uint64_t(big_endian_u32(p)) << 32) | big_endian_u32(p + 4);
      double d;
      std::memcpy(&d, &u, 8);
      return float(d);
    }
  }
}

std::string find_file(const std::string& dir, const std::string& stem) {
  for (const std::string& candidate : {dir + "/" + stem + ".gz", dir + "/" + stem})
    if (std::filesystem::exists(candidate)) return candidate;
  throw IoError("missing data file: neither '" + dir + "/" + stem + ".gz' nor '" + dir + "/" + stem +
                "' exists (Fashion-MNIST: install the Debian package dataset-fashion-mnist)");
}

}  // namespace

Tensor read_idx(const std::string& path, unsigned char* type_code) {
  IdxStream in(path);
  std::vector<unsigned char> data;
  if (in.append(data, 4) < 4 || data[0] != 0 || data[1] != 0)
    throw IoError("'" + path + "' is not an IDX file (bad magic number)");
  const unsigned char code = data[2];
  if (type_code) *type_code = code;
  const std::size_t rank = data[3], elem = type_size(code);
  if (elem == 0) throw IoError("'" + path + "': unknown IDX element type 0x" + std::to_string(code));
  if (rank == 0 || rank >= Shape::max_rank) throw IoError("'" + path + "': unsupported IDX rank " + std::to_string(rank));
  if (in.append(data, 4 * rank) < 4 * rank) throw IoError("IDX file '" + path + "' is truncated inside its header");
  std::vector<std::int64_t> dims;
  std::size_t count = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    dims.push_back(big_endian_u32(&data[4 + 4 * i]));
    // Extents whose product overflows would make a wrapped count that can match the file size
    // (found by fuzz_idx): refuse them before sizing anything.
    if (__builtin_mul_overflow(count, static_cast<std::size_t>(dims.back()), &count) || count > (std::size_t{1} << 40))
      throw IoError("'" + path + "': its IDX header declares more than 2^40 elements, which cannot be right");
  }
  const std::size_t offset = 4 + 4 * rank;
  // One byte more than promised tells trailing bytes apart without reading them all.
  const std::size_t held = in.append(data, count * elem + 1);
  if (held != count * elem)
    throw IoError("IDX file '" + path + "' is truncated or has trailing bytes: its header promises " +
                  std::to_string(count * elem) + " bytes of data, the file holds " +
                  (held > count * elem ? "more" : std::to_string(held)));
  Tensor t{Shape(std::span<const std::int64_t>(dims))};
  for (std::size_t i = 0; i < count; ++i) t[i] = element(&data[offset + i * elem], code);
  return t;
}

Dataset load_idx_dataset(const std::string& dir, const std::string& prefix, const Shape& sample_shape) {
  const std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  unsigned char image_type = 0;
  Tensor images = read_idx(images_path, &image_type);
  Tensor labels = read_idx(labels_path);
  if (labels.shape().rank() != 1 || images.shape()[0] != labels.shape()[0])
    throw IoError("'" + images_path + "' holds " + std::to_string(images.shape()[0]) + " images but '" + labels_path +
                  "' holds labels of shape " + labels.shape().str());
  const std::int64_t n = images.shape()[0];
  const Shape per_image = images.shape().without_batch();
  if (per_image.numel() != sample_shape.numel())
    throw ShapeError("images in '" + images_path + "' have shape " + per_image.str() + " (" +
                     std::to_string(per_image.numel()) + " values) but the model expects inputs of shape " +
                     sample_shape.str());
  if (image_type == 0x08)
    for (auto& v : images.span()) v *= 1.0f / 255.0f;
  images.resize(sample_shape.with_batch(n));
  return Dataset{std::move(images), std::move(labels), images_path};
}

}  // namespace weft::io
