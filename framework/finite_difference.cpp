#include "finite_difference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

namespace weft::detail {
namespace {

constexpr std::int64_t max_report_lines = 20;

struct NumericSlope {
  std::size_t index = 0;
  double slope = 0;      // central difference over [x − h, x + h]
  double roughness = 0;  // what a kink within ±h could have done to `slope`, at most
};

// Chooses which coordinates of a tensor of `size` elements to check.
std::vector<std::size_t> sample_coordinates(std::size_t size, std::int64_t wanted, const CounterRng& rng) {
  std::vector<std::size_t> out;
  if (static_cast<std::int64_t>(size) <= wanted) {
    for (std::size_t i = 0; i < size; ++i) out.push_back(i);
  } else {
    for (std::int64_t k = 0; k < wanted; ++k) out.push_back(rng.below(static_cast<std::uint64_t>(k), size));
  }
  return out;
}

// The objective at x − h, x − h/2, x + h/2 and x + h, around f(x) = f0. For a smooth objective
// the four half-step slopes s1..s4 lie on a line: their second differences are (h/2)²·f''' plus
// rounding. A kink (a jump J in f') at distance d < h from x biases the central difference by
// J·(h − d)/2h and makes one of the two second differences at least that large (equal at
// d = h/3, larger elsewhere), so the larger of them bounds what a kink may have done.
NumericSlope numeric_slope(float* value, double h, double f0, const std::function<double()>& objective) {
  const float saved = *value;
  auto at = [&](double offset) {
    *value = static_cast<float>(saved + offset);
    return objective();
  };
  const double down2 = at(-h), down1 = at(-h / 2), up1 = at(h / 2), up2 = at(h);
  *value = saved;
  const double half = h / 2;
  const double s1 = (down1 - down2) / half, s2 = (f0 - down1) / half, s3 = (up1 - f0) / half, s4 = (up2 - up1) / half;
  NumericSlope out;
  out.slope = (up2 - down2) / (2 * h);
  out.roughness = std::max(std::abs(s1 - 2 * s2 + s3), std::abs(s2 - 2 * s3 + s4));
  return out;
}

}  // namespace

void record_fault(GradientCheckResult& result, GradientFault fault, const std::string& line) {
  result.ok = false;
  if (!result.has(fault)) result.faults.push_back(fault);
  if (std::count(result.report.begin(), result.report.end(), '\n') < max_report_lines) result.report += line + "\n";
}

void check_tensor(GradientCheckResult& result, const GradientCheckOptions& o, float* values, const float* analytic,
                  std::size_t size, const CounterRng& pick, const std::string& what, double f0,
                  const std::function<double()>& objective) {
  std::vector<NumericSlope> slopes;
  for (auto i : sample_coordinates(size, o.samples_per_tensor, pick)) {
    slopes.push_back(numeric_slope(&values[i], o.step, f0, objective));
    slopes.back().index = i;
  }
  // The tensor's typical gradient, from the finite differences: a wrong analytic gradient
  // cannot widen its own tolerance.
  double squares = 0;
  for (const auto& s : slopes) squares += s.slope * s.slope;
  const double floor = slopes.empty() ? 0 : o.floor_tolerance * std::sqrt(squares / static_cast<double>(slopes.size()));
  for (const auto& s : slopes) {
    // A kink is skipped when it could have used up half the tolerance; one not skipped then
    // leaves the other half to the comparison.
    if (s.roughness > 0.5 * (o.rel_tolerance * std::abs(s.slope) + floor)) {
      ++result.skipped;
      continue;
    }
    ++result.checked;
    const double a = analytic[s.index];
    const double tolerance = o.rel_tolerance * std::max(std::abs(a), std::abs(s.slope)) + floor;
    const double error = std::abs(a - s.slope);
    if (error <= tolerance) {
      if (tolerance > 0) result.worst_ratio = std::max(result.worst_ratio, error / tolerance);
      continue;
    }
    result.worst_ratio = std::isfinite(error / tolerance) ? std::max(result.worst_ratio, error / tolerance)
                                                          : std::numeric_limits<double>::infinity();
    std::ostringstream line;
    line << what << "[" << s.index << "]: analytic " << a << ", numeric " << s.slope << " (tolerance " << tolerance
         << ")";
    record_fault(result, GradientFault::mismatch, line.str());
  }
}

void check_skipped(GradientCheckResult& result, const GradientCheckOptions& o) {
  const std::int64_t tried = result.checked + result.skipped;
  if (static_cast<double>(result.skipped) <= o.max_skipped_fraction * static_cast<double>(tried)) return;
  std::ostringstream line;
  line << "skipped " << result.skipped << " of " << tried << " points as kinks; at most "
       << 100 * o.max_skipped_fraction << " % may be, or too little is checked";
  record_fault(result, GradientFault::too_many_kinks, line.str());
}

}  // namespace weft::detail
