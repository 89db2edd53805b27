#include "weft/rng.hpp"

#include <cmath>
#include <numbers>

namespace weft {

double CounterRng::normal(std::uint64_t counter) const {
  // Two independent uniforms from one counter: u1 in (0, 1] keeps log() finite.
  const double u1 = 1.0 - uniform_double(2 * counter);
  const double u2 = uniform_double(2 * counter + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t CounterRng::below(std::uint64_t counter, std::uint64_t n) const {
  // Scaling a 53-bit uniform: exact enough for any n a dataset index can reach (n < 2^53).
  const auto k = static_cast<std::uint64_t>(uniform_double(counter) * static_cast<double>(n));
  return k < n ? k : n - 1;
}

}  // namespace weft
