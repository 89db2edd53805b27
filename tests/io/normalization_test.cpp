// Input normalisation: statistics from the training set, applied identically after a round trip
// through the stored data state.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "model_helpers.hpp"
#include "weft/io/normalization.hpp"

using weft::testing::error_of;

BOOST_AUTO_TEST_CASE(standardize_uses_training_mean_and_population_std) {
  // Feature 0: 1, 3 → mean 2, std 1. Feature 1: 5, 5 → constant, std kept at 1.
  weft::Tensor train(weft::Shape{2, 2});
  const float values[] = {1, 5, 3, 5};
  std::copy(values, values + 4, train.data());
  auto n = weft::io::Normalization::parse("standardize");
  n.fit(train);
  weft::io::DataState state;
  n.to_state(state);
  const auto restored = weft::io::Normalization::from_state(state);

  weft::Tensor x(weft::Shape{1, 2});
  x[0] = 4;  // (4 − 2) / 1
  x[1] = 7;  // (7 − 5) / 1
  restored.apply(x);
  BOOST_CHECK_EQUAL(x[0], 2.0f);
  BOOST_CHECK_EQUAL(x[1], 2.0f);
}

BOOST_AUTO_TEST_CASE(scale_multiplies_and_bad_settings_are_named) {
  auto n = weft::io::Normalization::parse("scale:0.5");
  weft::Tensor x(weft::Shape{1, 3}, 3.0f);
  n.apply(x);
  BOOST_CHECK_EQUAL(x[2], 1.5f);
  auto msg = error_of([] { weft::io::Normalization::parse("scale:zero"); });
  BOOST_CHECK_MESSAGE(msg.find("expected none, standardize or scale:FACTOR") != std::string::npos, msg);

  auto fitted = weft::io::Normalization::parse("standardize");
  fitted.fit(weft::Tensor(weft::Shape{4, 3}, 1.0f));
  weft::Tensor wrong(weft::Shape{2, 5});
  msg = error_of([&] { fitted.apply(wrong); });
  BOOST_CHECK_MESSAGE(msg.find("fitted on 3 features, the data has 5") != std::string::npos, msg);
}
