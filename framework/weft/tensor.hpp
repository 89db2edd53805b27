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

// A tensor's memory seen through a shape, without owning it: View (float) writes,
// ConstView (const float) only reads. Copying a view copies the pointer, never the data; the
// memory must outlive the view. Element i is data()[i], row-major.
template <class T>
class BasicView {
 public:
  BasicView() = default;  // empty: no data, rank 0
  // `data` must hold shape.numel() elements; nothing is checked or copied.
  BasicView(T* data, Shape shape) : data_(data), shape_(shape) {}
  // A mutable view converts to a read-only one.
  template <class U>
    requires std::is_convertible_v<U*, T*>
  BasicView(const BasicView<U>& other) : data_(other.data()), shape_(other.shape()) {}

  T* data() const { return data_; }                  // the first element (null when empty)
  const Shape& shape() const { return shape_; }       // the extents, outermost first
  std::int64_t numel() const { return shape_.numel(); }  // elements, as a signed count
  std::size_t size() const { return static_cast<std::size_t>(shape_.numel()); }  // elements
  bool empty() const { return data_ == nullptr; }     // true for a default-constructed view
  std::span<T> span() const { return {data_, size()}; }  // all elements, flat
  T& operator[](std::size_t i) const { return data_[i]; }  // flat index, unchecked

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
  // Elements between consecutive samples (the product of all extents but the first).
  std::int64_t stride0() const { return shape_.rank() ? shape_.numel() / shape_[0] : 1; }

 private:
  T* data_ = nullptr;
  Shape shape_;
};

using View = BasicView<float>;             // a writable view of fp32 data
using ConstView = BasicView<const float>;  // a read-only view of fp32 data

// Owning fp32 storage with a shape. The memory is 64-byte aligned (whole cache lines, the width
// of an AVX-512 register) and zero-filled when allocated; copies are deep.
class Tensor {
 public:
  Tensor() = default;  // no storage, rank 0
  // Zero-filled.
  explicit Tensor(const Shape& shape);
  Tensor(const Shape& shape, float fill);  // every element set to `fill`
  Tensor(const Tensor& other);             // a deep copy: new storage, same shape and values
  Tensor& operator=(const Tensor& other);  // a deep copy; reuses the storage when sizes match
  Tensor(Tensor&&) noexcept = default;     // takes the storage; `other` is left without any
  Tensor& operator=(Tensor&&) noexcept = default;  // the same, freeing this tensor's storage

  const Shape& shape() const { return shape_; }  // the extents, outermost first
  std::size_t size() const { return static_cast<std::size_t>(shape_.numel()); }  // elements
  float* data() { return data_.get(); }                  // null when there is no storage
  const float* data() const { return data_.get(); }      // read-only
  float& operator[](std::size_t i) { return data_[i]; }  // flat index, unchecked
  float operator[](std::size_t i) const { return data_[i]; }  // read-only
  std::span<float> span() { return {data(), size()}; }        // all elements, flat
  std::span<const float> span() const { return {data(), size()}; }  // read-only

  View view() { return {data(), shape_}; }  // valid until the tensor is resized or destroyed
  ConstView view() const { return {data(), shape_}; }  // read-only
  operator View() { return view(); }  // so a Tensor can be passed where a View is expected
  operator ConstView() const { return view(); }  // the same for a ConstView

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
