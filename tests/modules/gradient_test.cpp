// Every registered layer and loss goes through the generic finite-difference checker (its own
// tests, against modules broken on purpose, are in gradient_checker_test.cpp).
// A new module is checked by adding WEFT_GRADIENT_CASES (tests/support/gradient_cases.hpp) in its
// own test file; a module registered without cases fails the coverage test.
#include <boost/test/unit_test.hpp>

#include <set>

#include "gradient_cases.hpp"
#include "weft/registry.hpp"

using weft::Json;
using weft::Shape;

namespace weft_test {
GradientCases& gradient_cases() {
  static GradientCases cases;
  return cases;
}
}  // namespace weft_test

// Cases for the skeleton's modules: odd sizes, several shards per batch (the default options use
// shards of 2 in a batch of 5), training mode. Other families add theirs from their own files.
WEFT_GRADIENT_CASES(skeleton) {
  layer({{"type", "dense"}, {"units", 3}}, Shape{7});
  layer({{"type", "dense"}, {"units", 5}, {"bias", false}}, Shape{4});
  layer({{"type", "dense"}, {"units", 1}, {"init", "he_normal"}}, Shape{2});
  layer({{"type", "relu"}}, Shape{3, 5});
  layer({{"type", "sigmoid"}}, Shape{6});
  layer({{"type", "tanh"}}, Shape{2, 3});
  loss({{"type", "cross_entropy"}}, Shape{4});
  loss({{"type", "cross_entropy"}}, Shape{2});
  loss({{"type", "mse"}}, Shape{3});
  loss({{"type", "mse"}}, Shape{2, 2});
}

namespace {

using Case = weft_test::GradientCase;
const std::vector<Case>& layer_cases() { return weft_test::gradient_cases().layers; }
const std::vector<Case>& loss_cases() { return weft_test::gradient_cases().losses; }

std::set<std::string> types_of(const std::vector<Case>& cases) {
  std::set<std::string> out;
  for (const auto& c : cases) out.insert(c.spec["type"].get<std::string>());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_registered_layer_and_loss_has_gradient_cases) {
  const auto layers = types_of(layer_cases()), losses = types_of(loss_cases());
  BOOST_REQUIRE(!layers.empty() && !losses.empty());
  for (const auto& name : weft::registry().layers.names()) {
    if (name.starts_with("test_")) continue;  // registered by tests to exercise the checker
    BOOST_CHECK_MESSAGE(layers.contains(name), "layer '" << name << "' has no gradient-check case");
  }
  for (const auto& name : weft::registry().losses.names()) {
    if (name.starts_with("test_")) continue;
    BOOST_CHECK_MESSAGE(losses.contains(name), "loss '" << name << "' has no gradient-check case");
  }
}

BOOST_AUTO_TEST_CASE(layer_gradients_match_finite_differences) {
  for (const auto& c : layer_cases()) {
    const auto r = c.inputs.empty() ? weft::check_layer_gradients(c.spec, c.input, c.options)
                                     : weft::check_layer_gradients(c.spec, c.inputs, c.options);
    BOOST_TEST_CONTEXT(c.spec.dump() << " on " << c.input.str() << (c.inputs.size() > 1 ? " and more" : "")) {
      // r.ok includes the bound on skipped kinks and the Layer contract's rules.
      BOOST_CHECK_MESSAGE(r.ok, r.report);
      BOOST_CHECK_GT(r.checked, 0);
      // The margins, for whoever tunes the tolerances (--log_level=message).
      BOOST_TEST_MESSAGE(c.spec.dump() << " on " << c.input.str() << ": worst error/tolerance " << r.worst_ratio
                                       << ", checked " << r.checked << ", skipped " << r.skipped);
    }
  }
}

BOOST_AUTO_TEST_CASE(loss_gradients_match_finite_differences) {
  for (const auto& c : loss_cases()) {
    const auto r = weft::check_loss_gradients(c.spec, c.input, c.options);
    BOOST_TEST_CONTEXT(c.spec.dump() << " on " << c.input.str()) {
      BOOST_CHECK_MESSAGE(r.ok, r.report);
      BOOST_CHECK_GT(r.checked, 0);
      // The margins, for whoever tunes the tolerances (--log_level=message).
      BOOST_TEST_MESSAGE(c.spec.dump() << " on " << c.input.str() << ": worst error/tolerance " << r.worst_ratio
                                       << ", checked " << r.checked << ", skipped " << r.skipped);
    }
  }
}
