// Pooling's PyTorch settings ceil_mode and dilation (max only): output extents worked by hand from
// PyTorch's documented formula, values against a plain reference loop written here, gradient
// cases, errors.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "one_layer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::OneLayer;

WEFT_GRADIENT_CASES(pooling_modes) {
  layer({{"type", "max_pool1d"}, {"kernel", 2}, {"stride", 2}, {"ceil_mode", true}}, Shape{2, 7});
  layer({{"type", "max_pool2d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true}}, Shape{2, 6, 5});
  layer({{"type", "max_pool2d"}, {"kernel", 2}, {"stride", 1}, {"dilation", {2, 1}}}, Shape{2, 5, 4});
  layer({{"type", "max_pool1d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}, {"dilation", 2}, {"ceil_mode", true}},
        Shape{1, 8});
  layer({{"type", "avg_pool1d"}, {"kernel", 2}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true}}, Shape{2, 6});
  layer({{"type", "avg_pool2d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true},
         {"count_include_pad", false}},
        Shape{1, 6, 5});
}

namespace {

void check_pooled(const Tensor& y, const std::vector<float>& expected) {
  BOOST_REQUIRE_EQUAL(y.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (std::isinf(expected[i])) {
      BOOST_CHECK_EQUAL(y[i], expected[i]);
    } else {
      BOOST_CHECK_CLOSE(y[i], expected[i], 1e-4);
    }
  }
}

// One axis of a 2-d pooling case.
struct Axis {
  std::int64_t kernel, stride, padding, dilation;
};

// PyTorch's documented output extent (MaxPool2d/AvgPool2d): floor or ceil of
// (in + 2·padding − dilation·(kernel − 1) − 1) / stride, plus 1; in ceil mode a window that would
// start in the right padding (start ≥ in + padding) is dropped.
std::int64_t documented_extent(std::int64_t in, const Axis& a, bool ceil_mode) {
  const double ratio = double(in + 2 * a.padding - a.dilation * (a.kernel - 1) - 1) / double(a.stride);
  std::int64_t out = static_cast<std::int64_t>(ceil_mode ? std::ceil(ratio) : std::floor(ratio)) + 1;
  if (ceil_mode && (out - 1) * a.stride >= in + a.padding) --out;
  return out;
}

// Plain 2-d pooling of one channel plane (h × w), PyTorch's rules spelled out: a max window with no
// real input gives −∞; the average divides by the real inputs, or with count_include_pad by the
// window clipped to the padded input (what a ceil-mode window reaches beyond the padding is not
// counted).
std::vector<float> reference_pool(const std::vector<float>& x, std::int64_t h, std::int64_t w, const Axis& ah,
                                  const Axis& aw, bool max, bool ceil_mode, bool count_include_pad) {
  const std::int64_t oh = documented_extent(h, ah, ceil_mode), ow = documented_extent(w, aw, ceil_mode);
  std::vector<float> y;
  for (std::int64_t r = 0; r < oh; ++r) {
    for (std::int64_t c = 0; c < ow; ++c) {
      const std::int64_t r0 = r * ah.stride - ah.padding, c0 = c * aw.stride - aw.padding;
      float best = -std::numeric_limits<float>::infinity(), sum = 0;
      int real = 0;
      for (std::int64_t i = 0; i < ah.kernel; ++i) {
        for (std::int64_t j = 0; j < aw.kernel; ++j) {
          const std::int64_t xr = r0 + i * ah.dilation, xc = c0 + j * aw.dilation;
          if (xr < 0 || xr >= h || xc < 0 || xc >= w) continue;
          const float v = x[static_cast<std::size_t>(xr * w + xc)];
          best = std::max(best, v);
          sum += v;
          ++real;
        }
      }
      const std::int64_t clipped = (std::min(r0 + ah.kernel, h + ah.padding) - r0) *
                                   (std::min(c0 + aw.kernel, w + aw.padding) - c0);
      y.push_back(max ? best : sum / float(count_include_pad ? clipped : real));
    }
  }
  return y;
}

Json per_axis(std::int64_t a, std::int64_t b) { return Json::array({a, b}); }

}  // namespace

BOOST_AUTO_TEST_CASE(pooling_output_extents_follow_pytorchs_formula) {
  struct Case {
    std::int64_t in, kernel, stride, padding, dilation;
    bool ceil_mode;
    std::int64_t by_hand;
  };
  // by_hand: (in + 2p − d(k − 1) − 1) / s, rounded, + 1; "drop" when ceil mode's last start
  // (out − 1)·s reaches in + p. (Cross-checked once with torch 1.13's F.max_pool1d.)
  const Case cases[] = {
      {5, 2, 2, 0, 1, false, 2},   // 3/2 → 1, + 1
      {5, 2, 2, 0, 1, true, 3},    // ⌈3/2⌉ = 2, + 1; last start 4 < 5
      {6, 3, 2, 1, 1, false, 3},   // 5/2 → 2, + 1
      {6, 3, 2, 1, 1, true, 4},    // ⌈5/2⌉ = 3, + 1; last start 6 < 7
      {5, 2, 2, 1, 1, true, 3},    // ⌈5/2⌉ + 1 = 4, but start 6 ≥ 5 + 1 → drop → 3
      {10, 3, 1, 0, 2, false, 6},  // (10 − 4 − 1)/1 + 1
      {10, 3, 3, 1, 2, false, 3},  // 7/3 → 2, + 1
      {10, 3, 3, 1, 2, true, 4},   // ⌈7/3⌉ = 3, + 1; last start 9 < 11
      {3, 4, 2, 0, 1, true, 1},    // ⌈−1/2⌉ = 0, + 1: a kernel longer than the input, ceil mode
  };
  for (const Case& k : cases) {
    BOOST_TEST_CONTEXT("in " << k.in << " kernel " << k.kernel << " stride " << k.stride << " padding " << k.padding
                             << " dilation " << k.dilation << " ceil " << k.ceil_mode) {
      BOOST_CHECK_EQUAL(documented_extent(k.in, {k.kernel, k.stride, k.padding, k.dilation}, k.ceil_mode), k.by_hand);
      const Json spec = {{"type", "max_pool1d"}, {"kernel", k.kernel},     {"stride", k.stride},
                         {"padding", k.padding}, {"dilation", k.dilation}, {"ceil_mode", k.ceil_mode}};
      BOOST_CHECK(OneLayer(spec, Shape{2, k.in}).output_shape() == (Shape{2, k.by_hand}));
      if (k.dilation == 1) {
        Json avg = spec;
        avg["type"] = "avg_pool1d";
        avg.erase("dilation");
        BOOST_CHECK(OneLayer(avg, Shape{2, k.in}).output_shape() == (Shape{2, k.by_hand}));
      }
    }
  }
  // 2-d, per-axis settings: rows ⌈6/2⌉ + 1 = 4 (last start 6 < 8), columns (5 − 2 − 1)/2 + 1 = 2.
  const Json two_d = {{"type", "max_pool2d"}, {"kernel", per_axis(3, 2)},   {"stride", 2},
                      {"padding", per_axis(1, 0)}, {"dilation", per_axis(1, 2)}, {"ceil_mode", true}};
  BOOST_CHECK(OneLayer(two_d, Shape{1, 7, 5}).output_shape() == (Shape{1, 4, 2}));
}

// Worked by hand; torch 1.13's F.max_pool1d / F.avg_pool1d gave the same values.
BOOST_AUTO_TEST_CASE(ceil_mode_and_dilation_by_hand) {
  // max, kernel 3, stride 2, dilation 2, padding 1, ceil mode on [3, 1, 4, 1, 5, 9, 2]: windows
  // start at −1, 1, 3 and read {pad, 1, 1}, {1, 1, 9}, {1, 9, beyond} → [1, 9, 9].
  check_pooled(OneLayer({{"type", "max_pool1d"}, {"kernel", 3}, {"stride", 2}, {"dilation", 2}, {"padding", 1},
                         {"ceil_mode", true}},
                        Shape{1, 7})
                   .run({3, 1, 4, 1, 5, 9, 2}),
               {1, 9, 9});
  // avg, kernel 2, stride 2, padding 1, ceil mode on [3, 1, 4, 1, 5]: windows {pad, 3}, {1, 4},
  // {1, 5} (a 4th would start at 6 = in + padding: dropped) → with the pad counted [1.5, 2.5, 3],
  // without [3, 2.5, 3].
  const Json avg = {{"type", "avg_pool1d"}, {"kernel", 2}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true}};
  check_pooled(OneLayer(avg, Shape{1, 5}).run({3, 1, 4, 1, 5}), {1.5f, 2.5f, 3});
  Json real_only = avg;
  real_only["count_include_pad"] = false;
  check_pooled(OneLayer(real_only, Shape{1, 5}).run({3, 1, 4, 1, 5}), {3, 2.5f, 3});
  // avg, kernel 3, stride 2, padding 1, ceil mode on 0..5: windows at −1, 1, 3, 5; the last reads
  // {5, pad, beyond}: the divisor counts x5 and the pad (2), not the slot beyond → 5/2.
  check_pooled(OneLayer({{"type", "avg_pool1d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true}},
                        Shape{1, 6})
                   .run({0, 1, 2, 3, 4, 5}),
               {1.0f / 3, 2, 4, 2.5f});
  // A dilated max window wholly in padding: kernel 2, dilation 3, padding 1 on [1, 2] reads
  // positions −1 and 2, both outside → −∞ (PyTorch's value).
  check_pooled(OneLayer({{"type", "max_pool1d"}, {"kernel", 2}, {"stride", 1}, {"padding", 1}, {"dilation", 3}},
                        Shape{1, 2})
                   .run({1, 2}),
               {-std::numeric_limits<float>::infinity()});
}

BOOST_AUTO_TEST_CASE(ceil_mode_and_dilation_match_a_reference_loop) {
  struct Case {
    bool max;
    std::int64_t h, w;
    Axis ah, aw;
    bool ceil_mode, count_include_pad;
  };
  const Case cases[] = {
      {true, 7, 6, {3, 2, 1, 1}, {3, 2, 1, 1}, true, false},
      {true, 9, 8, {3, 2, 1, 2}, {2, 3, 0, 3}, true, false},
      {true, 8, 7, {2, 1, 1, 2}, {3, 2, 1, 2}, false, false},
      {true, 5, 9, {2, 2, 0, 1}, {4, 3, 2, 1}, true, false},
      {false, 7, 6, {3, 2, 1, 1}, {3, 2, 1, 1}, true, true},
      {false, 7, 6, {3, 2, 1, 1}, {3, 2, 1, 1}, true, false},
      {false, 8, 5, {2, 2, 1, 1}, {4, 3, 2, 1}, true, true},
      {false, 5, 9, {3, 3, 0, 1}, {2, 2, 1, 1}, true, false},
  };
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (const Case& k : cases) {
    Json spec = {{"type", k.max ? "max_pool2d" : "avg_pool2d"},
                 {"kernel", per_axis(k.ah.kernel, k.aw.kernel)},
                 {"stride", per_axis(k.ah.stride, k.aw.stride)},
                 {"padding", per_axis(k.ah.padding, k.aw.padding)},
                 {"ceil_mode", k.ceil_mode}};
    if (k.max) {
      spec["dilation"] = per_axis(k.ah.dilation, k.aw.dilation);
    } else {
      spec["count_include_pad"] = k.count_include_pad;
    }
    BOOST_TEST_CONTEXT(spec.dump()) {
      const std::int64_t channels = 2;
      std::vector<float> x(static_cast<std::size_t>(channels * k.h * k.w));
      for (float& v : x) v = uniform(gen);
      std::vector<float> expected;
      for (std::int64_t c = 0; c < channels; ++c) {
        const auto plane = std::vector<float>(x.begin() + c * k.h * k.w, x.begin() + (c + 1) * k.h * k.w);
        const auto y = reference_pool(plane, k.h, k.w, k.ah, k.aw, k.max, k.ceil_mode, k.count_include_pad);
        expected.insert(expected.end(), y.begin(), y.end());
      }
      check_pooled(OneLayer(spec, Shape{channels, k.h, k.w}).run(x), expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(pooling_mode_errors_name_the_key) {
  using weft::testing::error_of;
  auto build = [](const Json& layer, const Shape& in) {
    return error_of([&] { weft::Model({{"input", in.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}}); });
  };
  const std::string ceil = build({{"type", "max_pool1d"}, {"kernel", 2}, {"ceil_mode", "yes"}}, Shape{1, 4});
  BOOST_CHECK_MESSAGE(ceil.find("'ceil_mode'") != std::string::npos && ceil.find("true or false") != std::string::npos,
                      ceil);
  const std::string dil = build({{"type", "max_pool1d"}, {"kernel", 2}, {"dilation", 0}}, Shape{1, 4});
  BOOST_CHECK_MESSAGE(dil.find("'dilation'") != std::string::npos, dil);
  // Average pooling has no dilation (nor does PyTorch's): an unknown key.
  const std::string avg = build({{"type", "avg_pool1d"}, {"kernel", 2}, {"dilation", 2}}, Shape{1, 4});
  BOOST_CHECK_MESSAGE(avg.find("dilation") != std::string::npos, avg);
  // A dilated kernel (span 7) longer than the padded input (4 + 2) leaves no window.
  const std::string big = build({{"type", "max_pool1d"}, {"kernel", 3}, {"padding", 1}, {"dilation", 3}}, Shape{1, 4});
  BOOST_CHECK_MESSAGE(big.find("kernel (7,)") != std::string::npos && big.find("4 + 2 padding = 6") != std::string::npos,
                      big);
}
