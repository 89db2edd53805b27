#pragma once
// IDX files, the format of MNIST and Fashion-MNIST: a magic number (two zero bytes, a type code,
// the number of axes), big-endian 32-bit extents, then the data. Plain or gzip-compressed.
#include <string>

#include "weft/dataset.hpp"
#include "weft/tensor.hpp"

namespace weft::io {

// Reads an IDX file of any element type into floats, unscaled; `type_code`, when given,
// receives the IDX type (0x08 = unsigned byte). Throws IoError naming the file and the problem
// (missing, truncated, bad magic).
Tensor read_idx(const std::string& path, unsigned char* type_code = nullptr);

// Loads "<dir>/<prefix>-images-idx3-ubyte[.gz]" and "<dir>/<prefix>-labels-idx1-ubyte[.gz]"
// (prefix "train" or "t10k"): byte images scaled to [0, 1] and reshaped to `sample_shape` when its
// element count matches; labels as class indices.
Dataset load_idx_dataset(const std::string& dir, const std::string& prefix, const Shape& sample_shape);

}  // namespace weft::io
