#pragma once
// Shape: the extents of a tensor, outermost first (N·C·spatial, as PyTorch).
// Stored inline (no heap) so views can be made in hot loops without allocating.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace weft {

// Up to max_rank non-negative extents, outermost first; a value type, cheap to copy.
class Shape {
 public:
  static constexpr std::size_t max_rank = 8;  // the most axes a shape holds (fixed, inline storage)

  Shape() = default;  // rank 0: a scalar
  // From the extents, e.g. Shape{64, 1, 28, 28}; throws ShapeError for more than max_rank axes
  // or a negative extent.
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::span<const std::int64_t> dims);  // the same checks, from a span

  std::size_t rank() const { return rank_; }  // number of axes
  std::int64_t operator[](std::size_t axis) const { return dims_[axis]; }  // unchecked: axis < rank()
  std::int64_t& operator[](std::size_t axis) { return dims_[axis]; }  // writable, unchecked
  std::span<const std::int64_t> dims() const { return {dims_.data(), rank_}; }  // the extents
  std::vector<std::int64_t> to_vector() const { return {dims_.begin(), dims_.begin() + rank_}; }  // a copy

  // Product of all extents; 1 for a scalar (rank 0).
  std::int64_t numel() const;

  // {n, dims...}: a per-sample shape with a batch axis in front.
  Shape with_batch(std::int64_t n) const;
  // The shape without its first axis.
  Shape without_batch() const;

  // "(1, 28, 28)"
  std::string str() const;

  friend bool operator==(const Shape& a, const Shape& b);  // same rank and the same extents

 private:
  std::array<std::int64_t, max_rank> dims_{};
  std::size_t rank_ = 0;
};

}  // namespace weft
