#pragma once
// Gradient-check cases, contributed by each module family's test file so that adding a module
// never means editing a shared table:
//
//   WEFT_GRADIENT_CASES(dense) {
//     layer({{"type", "dense"}, {"units", 3}}, weft::Shape{7});
//     loss({{"type", "mse"}}, weft::Shape{3});
//   }
//
// tests/modules/gradient_test.cpp runs every case and fails any registered layer or loss that
// has none.
#include <string>
#include <vector>

#include "weft/gradient_check.hpp"

namespace weft_test {

struct GradientCase {
  weft::Json spec;
  weft::Shape input;
  weft::GradientCheckOptions options = {};
  std::vector<weft::Shape> inputs = {};  // a layer reading several inputs (then `input` is unused)
};

struct GradientCases {
  std::vector<GradientCase> layers;
  std::vector<GradientCase> losses;
};

GradientCases& gradient_cases();

// Adds cases to gradient_cases() at static-initialisation time.
class GradientCaseAdder {
 public:
  void layer(weft::Json spec, weft::Shape input, weft::GradientCheckOptions options = {}) {
    gradient_cases().layers.push_back({std::move(spec), input, options});
  }
  // A layer reading several inputs (add, concat), one per-sample shape each.
  void merge_layer(weft::Json spec, std::vector<weft::Shape> inputs, weft::GradientCheckOptions options = {}) {
    gradient_cases().layers.push_back({std::move(spec), inputs[0], options, std::move(inputs)});
  }
  void loss(weft::Json spec, weft::Shape input, weft::GradientCheckOptions options = {}) {
    gradient_cases().losses.push_back({std::move(spec), input, options});
  }
};

}  // namespace weft_test

#define WEFT_GRADIENT_CASES(family)                                              \
  namespace {                                                                    \
  struct family##_gradient_cases : weft_test::GradientCaseAdder {                \
    family##_gradient_cases();                                                   \
  } const family##_gradient_cases_instance;                                      \
  }                                                                              \
  family##_gradient_cases::family##_gradient_cases()
