#pragma once
// "activation": "relu" on conv and dense (as Keras's activation=): the layer applies relu to its
// own output while that is still in cache, and masks its incoming gradient the same way,
// instead of a separate relu layer streaming the whole shard through memory twice more.
// The results are the bits of [layer, relu] exactly: the same value rule and the same
// dy · (1 or 0) products as the relu layer (activations.cpp).
#include <bit>
#include <cstddef>
#include <cstdint>

#include "weft/config.hpp"

namespace weft::builtin {

enum class FusedActivation { none, relu };

// Reads "activation" ("none" or "relu").
FusedActivation read_fused_activation(const Config& c);

// y = relu(y), in place.
inline void apply_relu(float* __restrict y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = y[i] < 0.0f ? 0.0f : y[i];
}

// masked = dy · relu'(before) where y = relu(before): y > 0 exactly when before > 0. The factor
// 1 or 0 is built from a mask so that the loop vectorises (a `?:` on constants stays a branch).
inline void mask_relu_gradient(const float* __restrict y, const float* __restrict dy, float* __restrict masked,
                               std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t one_if_positive = (0u - static_cast<std::uint32_t>(y[i] > 0.0f)) & 0x3f800000u;  // 1.0f
    masked[i] = dy[i] * std::bit_cast<float>(one_if_positive);
  }
}

}  // namespace weft::builtin
