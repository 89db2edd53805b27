#include "weft/shape.hpp"

#include "weft/error.hpp"

namespace weft {

Shape::Shape(std::initializer_list<std::int64_t> dims)
    : Shape(std::span<const std::int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const std::int64_t> dims) {
  if (dims.size() > max_rank)
    throw ShapeError("a tensor may have at most " + std::to_string(max_rank) + " axes, got " +
                     std::to_string(dims.size()));
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) throw ShapeError("negative extent " + std::to_string(dims[i]) + " in a shape");
    dims_[i] = dims[i];
  }
  rank_ = dims.size();
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (std::size_t i = 0; i < rank_; ++i) n *= dims_[i];
  return n;
}

Shape Shape::with_batch(std::int64_t n) const {
  if (rank_ + 1 > max_rank) throw ShapeError("shape " + str() + " has too many axes for a batch axis");
  Shape s;
  s.rank_ = rank_ + 1;
  s.dims_[0] = n;
  for (std::size_t i = 0; i < rank_; ++i) s.dims_[i + 1] = dims_[i];
  return s;
}

Shape Shape::without_batch() const {
  if (rank_ == 0) throw ShapeError("a scalar has no batch axis to remove");
  Shape s;
  s.rank_ = rank_ - 1;
  for (std::size_t i = 1; i < rank_; ++i) s.dims_[i - 1] = dims_[i];
  return s;
}

std::string Shape::str() const {
  std::string out = "(";
  for (std::size_t i = 0; i < rank_; ++i) {
    if (i) out += ", ";
    out += std::to_string(dims_[i]);
  }
  return out + ")";
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.rank_ != b.rank_) return false;
  for (std::size_t i = 0; i < a.rank_; ++i)
    if (a.dims_[i] != b.dims_[i]) return false;
  return true;
}

}  // namespace weft
