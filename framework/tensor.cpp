#include "weft/tensor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace weft {
namespace {

constexpr std::size_t alignment = 64;

float* aligned_floats(std::size_t count) {
  std::size_t bytes = std::max<std::size_t>(count * sizeof(float), alignment);
  bytes = (bytes + alignment - 1) / alignment * alignment;
  void* p = std::aligned_alloc(alignment, bytes);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return static_cast<float*>(p);
}

}  // namespace

void Tensor::Free::operator()(float* p) const { std::free(p); }

std::unique_ptr<float[], void (*)(float*)> allocate_floats(std::size_t count) {
  return {aligned_floats(count), [](float* p) { std::free(p); }};
}

Tensor::Tensor(const Shape& shape) : shape_(shape), data_(aligned_floats(shape.numel())) {}

Tensor::Tensor(const Shape& shape, float fill) : Tensor(shape) { std::fill_n(data(), size(), fill); }

Tensor::Tensor(const Tensor& other) : Tensor(other.shape_) {
  std::copy_n(other.data(), other.size(), data());
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    resize(other.shape_);
    std::copy_n(other.data(), other.size(), data());
  }
  return *this;
}

void Tensor::resize(const Shape& shape) {
  if (data_ && shape.numel() == shape_.numel()) {
    shape_ = shape;
    return;
  }
  data_.reset(aligned_floats(shape.numel()));
  shape_ = shape;
}

}  // namespace weft
