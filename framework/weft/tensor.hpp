#pragma once
// Tensor: contiguous, row-major, 64-byte aligned fp32 storage that owns its memory.
// View / ConstView: a pointer and a shape, never owning; slicing the batch axis makes a view
// without copying. Layers only ever see views; the Model and the shard buffers own tensors.
#include <cstddef>
#include <memory>
#include <span>

#include "weft/error.hpp"
#include "weft/shape.hpp"

namespace weft {

template <class T>
class BasicView {
 public:
  BasicView() = default;
  BasicView(T* data, Shape shape) : data_(data), shape_(shape) {}
  // A mutable view converts to a read-only one.
  template <class U>
    requires std::is_convertible_v<U*, T*>
  BasicView(const BasicView<U>& other) : data_(other.data()), shape_(other.shape()) {}

  T* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  std::int64_t numel() const { return shape_.numel(); }
  std::size_t size() const { return static_cast<std::size_t>(shape_.numel()); }
  bool empty() const { return data_ == nullptr; }
  std::span<T> span() const { return {data_, size()}; }
  T& operator[](std::size_t i) const { return data_[i]; }

  // Samples [begin, begin + count) along the first axis.
  BasicView slice(std::int64_t begin, std::int64_t count) const {
    Shape s = shape_;
    s[0] = count;
    return {data_ + begin * stride0(), s};
  }
  // Same memory, another shape with the same number of elements.
  BasicView reshaped(const Shape& s) const {
    if (s.numel() != shape_.numel())
      throw ShapeError("cannot view " + shape_.str() + " as " + s.str());
    return {data_, s};
  }
  std::int64_t stride0() const { return shape_.rank() ? shape_.numel() / shape_[0] : 1; }

 private:
  T* data_ = nullptr;
  Shape shape_;
};

using View = BasicView<float>;
using ConstView = BasicView<const float>;

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled.
  explicit Tensor(const Shape& shape);
  Tensor(const Shape& shape, float fill);
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  const Shape& shape() const { return shape_; }
  std::size_t size() const { return static_cast<std::size_t>(shape_.numel()); }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  float& operator[](std::size_t i) { return data_[i]; }
  float operator[](std::size_t i) const { return data_[i]; }
  std::span<float> span() { return {data(), size()}; }
  std::span<const float> span() const { return {data(), size()}; }

  View view() { return {data(), shape_}; }
  ConstView view() const { return {data(), shape_}; }
  operator View() { return view(); }
  operator ConstView() const { return view(); }

  // Changes the shape; keeps the storage when the element count is unchanged, otherwise
  // reallocates (zero-filled).
  void resize(const Shape& shape);

 private:
  struct Free {
    void operator()(float* p) const;
  };
  Shape shape_;
  std::unique_ptr<float[], Free> data_;
};

// Aligned, zero-filled storage for `count` floats (rounded up to whole cache lines).
std::unique_ptr<float[], void (*)(float*)> allocate_floats(std::size_t count);

}  // namespace weft
