#include "weft/finite.hpp"

#include <cstdint>
#include <cstring>

#include "vector_clones.hpp"

namespace weft {

WEFT_VECTOR_CLONES std::size_t first_non_finite(std::span<const float> values) {
  constexpr std::uint32_t exponent = 0x7f800000u;  // all ones: infinity or NaN
  constexpr std::size_t block = 1024;
  const float* data = values.data();
  for (std::size_t begin = 0; begin < values.size(); begin += block) {
    const std::size_t end = std::min(values.size(), begin + block);
    std::uint32_t hit = 0;
    for (std::size_t i = begin; i < end; ++i) {
      std::uint32_t bits;
      std::memcpy(&bits, data + i, sizeof bits);
      hit |= static_cast<std::uint32_t>((bits & exponent) == exponent);
    }
    if (hit)
      for (std::size_t i = begin; i < end; ++i) {
        std::uint32_t bits;
        std::memcpy(&bits, data + i, sizeof bits);
        if ((bits & exponent) == exponent) return i;
      }
  }
  return values.size();
}

}  // namespace weft
