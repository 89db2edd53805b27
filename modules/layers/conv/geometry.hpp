#pragma once
// Window geometry shared by convolution, transposed convolution and pooling, for 1 to
// max_spatial_dims spatial dimensions. A window slides over the spatial axes of one channel:
// output position o (per axis) reads input positions  o·stride − pad_before + k·dilation,
// k in [0, kernel). Positions outside [0, in) are padding (zero for conv, ignored for pooling).
#include <array>
#include <cstdint>
#include <string>

#include "weft/config.hpp"
#include "weft/shape.hpp"

namespace weft::builtin {

constexpr std::size_t max_spatial_dims = 4;

struct WindowGeometry {
  using Extents = std::array<std::int64_t, max_spatial_dims>;
  std::size_t dims = 0;
  Extents in{}, out{}, kernel{}, stride{}, dilation{}, pad_before{};

  std::int64_t in_count() const { return product(in); }
  std::int64_t out_count() const { return product(out); }
  std::int64_t kernel_count() const { return product(kernel); }
  // kernel 1, stride 1, no padding: the column matrix is the input itself.
  bool is_pointwise() const;

 private:
  std::int64_t product(const Extents& e) const;
};

// The window settings of a layer's Config, before the input shape is known.
struct WindowSettings {
  std::size_t dims = 0;
  WindowGeometry::Extents kernel{}, stride{}, dilation{}, padding{};
  enum class Padding { explicit_, same, valid } padding_mode = Padding::explicit_;
  // Pooling's ceil_mode (PyTorch): round the output extent up, but keep only windows that start
  // inside the input or the left padding.
  bool ceil_mode = false;
};

// Reads "kernel", "stride" (which may be the string "kernel" when `stride_defaults_to_kernel`), "dilation" and "ceil_mode" (when present) and "padding" (numbers, a per-axis list, "same" or "valid";
// "same" only when `allow_same`) for `dims` spatial axes.
WindowSettings read_window_settings(const Config& c, std::size_t dims, bool allow_same, bool stride_defaults_to_kernel);

// Reads "dims" (1..max) for the generic registrations, or returns `fixed` when it is non-zero.
std::size_t read_dims(const Config& c, std::size_t fixed, std::size_t max_dims);

// Checks a per-sample input (channels, spatial...) against `dims` spatial axes; `what` is the layer
// type for messages ("conv2d"). Throws ShapeError naming the expected layout.
void require_channels_first(const Shape& input, std::size_t dims, const std::string& what);

// The geometry of sliding `s` over the spatial axes of `input` (channels, spatial...): the
// output extent per axis floor((in + pads − dilation·(kernel − 1) − 1) / stride) + 1, with
// "same" giving ceil(in / stride) and padding split as evenly as possible (the extra at the end).
// ceil_mode rounds up instead, less one when the last window would start at or beyond
// in + pad_before (PyTorch's pooling_output_shape). Throws ShapeError when that leaves no window.
WindowGeometry slide(const WindowSettings& s, const Shape& input, const std::string& what);

// "(3, 3)" for the first `dims` entries of `e`.
std::string extents_str(const WindowGeometry::Extents& e, std::size_t dims);

// Shape{leading, e[0], ..., e[dims − 1]}
Shape channels_and(std::int64_t leading, const WindowGeometry::Extents& e, std::size_t dims);
// Shape{rows, cols, kernel[0], ..., kernel[dims − 1]}: a convolution weight.
Shape kernel_shape(std::int64_t rows, std::int64_t cols, const WindowGeometry::Extents& kernel, std::size_t dims);

}  // namespace weft::builtin
