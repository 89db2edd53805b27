// Every registered initialiser draws from the distribution it promises, with the fans PyTorch
// uses: for a weight (out, in, k...) fan_in = in·k..., fan_out = out·k..., so a conv's fan is
// channels × kernel volume (grouped: the channels of one group; conv_transpose's weight is
// (in, out/groups, k...), so its fan_in counts output channels, as PyTorch's does). The fans below
// are worked out by hand for each layout, not taken from weft's fans_of.
//
// Statistical limits. A weight of n independent draws gives a sample mean and a mean square
// whose errors are, by the central limit theorem, normal with the standard errors below. Each
// check allows k = 6 standard errors: P(|Z| > 6) = 2e-9 per check, and with about 200 checks
// here a correct initialiser fails with probability below 1e-6 (the skew of a mean of n ≥ 6912
// squares, √8/√n ≤ 0.034, leaves that bound in place). The layouts have fan_in and fan_out 4×
// apart and n ≥ 6912, so using the wrong fan, or dropping the kernel volume, misses the
// variance by a factor of at least 4 where 6 standard errors are at most 10 %.
//   normal(μ, σ):       mean ± 6σ/√n; mean of (w − μ)² = σ² ± 6σ²·√(2/n)
//   uniform(a − c, a + c): mean ± 6c/√(3n); mean of (w − a)² = c²/3 ± 6c²·√(4/45)/√n; every
//                       value within the bounds and the extremes within 20/n of the width of
//                       them (a miss has probability (1 − 20/n)^n < e^−20 = 2e−9).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "one_layer.hpp"
#include "weft/registry.hpp"

using weft::Json;
using weft::Shape;

namespace {

constexpr double k = 6;

// A layer whose weight has fan_in and fan_out 4× apart, with those fans worked out by hand.
struct Layout {
  std::string what;
  Json layer;
  Shape input;
  double fan_in, fan_out;
};

std::vector<Layout> layouts() {
  return {
      {"dense (64, 256)", {{"type", "dense"}, {"units", 64}}, Shape{256}, 256, 64},
      {"conv1d (64, 32, 5)", {{"type", "conv1d"}, {"filters", 64}, {"kernel", 5}}, Shape{32, 20}, 32 * 5, 64 * 5},
      {"conv2d groups 2 (64, 16, 3, 3)", {{"type", "conv2d"}, {"filters", 64}, {"kernel", 3}, {"groups", 2}},
       Shape{32, 6, 6}, 16 * 9, 64 * 9},
      {"conv3d (32, 8, 3, 3, 3)", {{"type", "conv3d"}, {"filters", 32}, {"kernel", 3}}, Shape{8, 4, 4, 4}, 8 * 27, 32 * 27},
      {"conv_transpose2d (16, 64, 3, 3)", {{"type", "conv_transpose2d"}, {"filters", 64}, {"kernel", 3}}, Shape{16, 4, 4},
       64 * 9, 16 * 9},
  };
}

// The layer's weight as initialised by `init` (null: the layer's default), in double.
std::vector<double> weight(const Layout& l, const Json& init) {
  Json layer = l.layer;
  if (!init.is_null()) layer["init"] = init;
  weft::testing::OneLayer one(layer, l.input);
  const auto w = one.param("weight");
  return {w.begin(), w.end()};
}

double mean_of(const std::vector<double>& w, double (*f)(double, double), double centre) {
  double s = 0;
  for (double v : w) s += f(v, centre);
  return s / double(w.size());
}
double deviation(double v, double c) { return v - c; }
double square(double v, double c) { return (v - c) * (v - c); }

void check_normal(const std::vector<double>& w, double mean, double sd, const std::string& what) {
  const double n = double(w.size());
  const double m = mean_of(w, deviation, mean), s = mean_of(w, square, mean);
  BOOST_CHECK_MESSAGE(std::abs(m) <= k * sd / std::sqrt(n), what << ": mean " << mean + m << ", expected " << mean);
  BOOST_CHECK_MESSAGE(std::abs(s - sd * sd) <= k * sd * sd * std::sqrt(2 / n),
                      what << ": variance " << s << ", expected " << sd * sd);
}

void check_uniform(const std::vector<double>& w, double low, double high, const std::string& what) {
  const double n = double(w.size()), centre = (low + high) / 2, c = (high - low) / 2;
  const auto [lo, hi] = std::minmax_element(w.begin(), w.end());
  const double slack = 1e-6 * std::max(std::abs(low), std::abs(high));  // float rounding of the bound
  BOOST_CHECK_MESSAGE(*lo >= low - slack && *hi <= high + slack,
                      what << ": values in [" << *lo << ", " << *hi << "], outside [" << low << ", " << high << "]");
  BOOST_CHECK_MESSAGE(*lo <= low + 20 / n * 2 * c && *hi >= high - 20 / n * 2 * c,
                      what << ": values in [" << *lo << ", " << *hi << "] do not reach the bounds " << low << ", " << high);
  const double m = mean_of(w, deviation, centre), s = mean_of(w, square, centre);
  BOOST_CHECK_MESSAGE(std::abs(m) <= k * c / std::sqrt(3 * n), what << ": mean " << centre + m << ", expected " << centre);
  BOOST_CHECK_MESSAGE(std::abs(s - c * c / 3) <= k * c * c * std::sqrt(4.0 / 45 / n),
                      what << ": variance " << s << ", expected " << c * c / 3);
}

// The fan-scaled initialisers: name, normal (else uniform), and std or bound from the fans.
struct Scaled {
  const char* name;
  bool normal;
  double (*scale)(double fan_in, double fan_out);
};
const Scaled scaled[] = {
    {"he_normal", true, [](double in, double) { return std::sqrt(2 / in); }},
    {"kaiming_normal", true, [](double in, double) { return std::sqrt(2 / in); }},
    {"he_uniform", false, [](double in, double) { return std::sqrt(6 / in); }},
    {"kaiming_uniform", false, [](double in, double) { return std::sqrt(6 / in); }},
    {"glorot_normal", true, [](double in, double out) { return std::sqrt(2 / (in + out)); }},
    {"xavier_normal", true, [](double in, double out) { return std::sqrt(2 / (in + out)); }},
    {"glorot_uniform", false, [](double in, double out) { return std::sqrt(6 / (in + out)); }},
    {"xavier_uniform", false, [](double in, double out) { return std::sqrt(6 / (in + out)); }},
    {"lecun_normal", true, [](double in, double) { return std::sqrt(1 / in); }},
    {"lecun_uniform", false, [](double in, double) { return std::sqrt(3 / in); }},
};
// Checked in this file's other cases, and orthogonal in orthogonal_test.cpp.
const std::set<std::string> fixed = {"zeros", "ones", "constant", "uniform", "normal", "orthogonal"};

}  // namespace

BOOST_AUTO_TEST_CASE(every_registered_initializer_is_checked_here) {
  std::set<std::string> known(fixed);
  for (const auto& s : scaled) known.insert(s.name);
  for (const auto& name : weft::registry().initializers.names())
    BOOST_CHECK_MESSAGE(known.contains(name), "initialiser '" << name << "' has no statistical test");
}

BOOST_AUTO_TEST_CASE(fan_scaled_initializers_match_their_distribution_for_dense_and_conv) {
  for (const auto& s : scaled)
    for (const auto& l : layouts()) {
      const auto w = weight(l, s.name);
      const double scale = s.scale(l.fan_in, l.fan_out);
      const std::string what = std::string(s.name) + " on " + l.what;
      if (s.normal) check_normal(w, 0, scale, what);
      else check_uniform(w, -scale, scale, what);
    }
}

BOOST_AUTO_TEST_CASE(defaults_are_glorot_uniform_for_dense_and_he_uniform_for_conv) {
  for (const auto& l : layouts()) {
    const bool dense = l.layer["type"] == "dense";
    BOOST_CHECK_MESSAGE(weight(l, nullptr) == weight(l, dense ? "glorot_uniform" : "he_uniform"),
                        l.what << ": the default initialiser is not " << (dense ? "glorot_uniform" : "he_uniform"));
  }
}

BOOST_AUTO_TEST_CASE(uniform_and_normal_use_their_settings_and_defaults) {
  const Layout l = layouts()[1];
  check_uniform(weight(l, "uniform"), -0.05, 0.05, "uniform (defaults)");
  check_uniform(weight(l, {{"type", "uniform"}, {"low", -0.3}, {"high", 0.7}}), -0.3, 0.7, "uniform [-0.3, 0.7)");
  check_normal(weight(l, "normal"), 0, 0.05, "normal (defaults)");
  check_normal(weight(l, {{"type", "normal"}, {"mean", 0.5}, {"std", 0.2}}), 0.5, 0.2, "normal(0.5, 0.2)");
}

BOOST_AUTO_TEST_CASE(constant_initializers_fill_every_element) {
  const Layout l = layouts()[2];
  for (const auto& [init, value] : std::vector<std::pair<Json, double>>{
           {"zeros", 0.0}, {"ones", 1.0}, {"constant", 0.0}, {{{"type", "constant"}, {"value", -0.25}}, -0.25}}) {
    const auto w = weight(l, init);
    BOOST_CHECK_MESSAGE(std::all_of(w.begin(), w.end(), [v = value](double x) { return x == v; }),
                        init.dump() << " did not set every element to " << value);
  }
}
