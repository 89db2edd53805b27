#pragma once
// Fast checks for NaN and infinity over large buffers (every gradient, every step).
#include <cstddef>
#include <span>

namespace weft {

// Index of the first element that is NaN or ±infinity, or values.size() when all are finite.
// Tests the exponent bits with integer operations, which the compiler vectorises (a float
// comparison loop would not be, without -ffast-math, which in turn would drop the NaN checks).
std::size_t first_non_finite(std::span<const float> values);

// Whether no element is NaN or ±infinity.
inline bool all_finite(std::span<const float> values) { return first_non_finite(values) == values.size(); }

}  // namespace weft
