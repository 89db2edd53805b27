// The C++ model builder writes the same spec as JSON and builds through the registry.
#include <boost/test/unit_test.hpp>

#include "model_helpers.hpp"
#include "weft/weft.hpp"

using weft::Json;

BOOST_AUTO_TEST_CASE(sequential_writes_the_json_spec_it_stands_for) {
  weft::Sequential net({1, 8, 8});
  net.add(weft::conv2d(4, 3).with("init", "he_normal"))
      .add(weft::relu())
      .add(weft::max_pool2d(2))
      .add(weft::flatten())
      .add("tanh")
      .add(weft::dense(10))
      .loss("cross_entropy")
      .optimizer(weft::adam(0.01));
  const Json expected = Json::parse(R"({
    "input": [1, 8, 8],
    "layers": [{"type": "conv2d", "filters": 4, "kernel": 3, "init": "he_normal"}, {"type": "relu"},
               {"type": "max_pool2d", "kernel": 2}, {"type": "flatten"}, {"type": "tanh"},
               {"type": "dense", "units": 10}],
    "loss": {"type": "cross_entropy"},
    "optimizer": {"type": "adam", "lr": 0.01}})");
  BOOST_CHECK_EQUAL(net.spec(), expected);
  const weft::Model model = net.build();
  BOOST_CHECK(model.spec() == weft::Model(expected).spec());
  // conv2d 4·1·3·3 + 4, dense 10·(4·3·3) + 10: 6×6 after the conv, 3×3 after the pool.
  std::size_t parameters = 0;
  for (const auto& t : model.parameter_table()) parameters += t.size();
  BOOST_CHECK_EQUAL(parameters, 4 * 9 + 4 + 10 * 36 + 10);
}

BOOST_AUTO_TEST_CASE(sequential_settings_are_checked_by_the_registry) {
  weft::Sequential net({4});
  net.add(weft::dense(3).with("unit", 2));
  auto msg = weft::testing::error_of([&] { (void)net.build(); });
  BOOST_CHECK_MESSAGE(msg.find("layer 0 (dense): unknown setting 'unit'") != std::string::npos, msg);
  weft::Sequential scheduled({4});
  scheduled.add(weft::dense(3)).training({{"schedule", {{"type", "no_such_schedule"}}}});
  msg = weft::testing::error_of([&] { (void)scheduled.build(); });
  BOOST_CHECK_MESSAGE(msg.find("unknown schedule type 'no_such_schedule'") != std::string::npos, msg);
}
