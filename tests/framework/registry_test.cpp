// The registry: lookup by name, loud failures for unknown names, keys and duplicates.
#include <boost/test/unit_test.hpp>

#include "model_helpers.hpp"
#include "weft/model.hpp"
#include "weft/registry.hpp"

using weft::Json;
using weft::testing::error_of;

namespace {
const Json mlp = {{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 3}}, {{"type", "relu"}}}}, {"loss", "mse"}};
}  // namespace

BOOST_AUTO_TEST_CASE(built_ins_are_registered_by_name) {
  auto& r = weft::registry();
  for (const char* name : {"dense", "relu", "sigmoid", "tanh"}) BOOST_CHECK(r.layers.contains(name));
  for (const char* name : {"cross_entropy", "mse"}) BOOST_CHECK(r.losses.contains(name));
  for (const char* name : {"sgd", "adam"}) BOOST_CHECK(r.optimizers.contains(name));
  BOOST_CHECK_EQUAL(r.layers.provider("dense"), "built-in");
}

BOOST_AUTO_TEST_CASE(unknown_layer_names_the_layer_and_lists_known_ones) {
  Json spec = mlp;
  spec["layers"][1]["type"] = "rleu";
  const auto msg = error_of([&] { weft::Model m(spec); });
  BOOST_CHECK_MESSAGE(msg.find("layer 1: unknown layer type 'rleu'") != std::string::npos, msg);
  BOOST_CHECK_MESSAGE(msg.find("dense") != std::string::npos && msg.find("relu") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(unknown_and_missing_settings_are_errors) {
  Json spec = mlp;
  spec["layers"][0]["unit"] = 3;
  auto msg = error_of([&] { weft::Model m(spec); });
  BOOST_CHECK_MESSAGE(msg.find("layer 0 (dense): unknown setting 'unit'") != std::string::npos, msg);
  spec["layers"][0].erase("unit");
  spec["layers"][0].erase("units");
  msg = error_of([&] { weft::Model m(spec); });
  BOOST_CHECK_MESSAGE(msg.find("'units' is required") != std::string::npos, msg);
  spec["layers"][0]["units"] = "ten";
  msg = error_of([&] { weft::Model m(spec); });
  BOOST_CHECK_MESSAGE(msg.find("'units' must be an integer >= 1, got \"ten\"") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(malformed_specs_are_rejected_with_the_reason) {
  BOOST_CHECK(error_of([] { weft::Model m(Json::array()); }).find("expected a JSON object") != std::string::npos);
  BOOST_CHECK(error_of([] { weft::Model m(Json{{"layers", Json::array()}}); }).find("missing \"input\"") != std::string::npos);
  BOOST_CHECK(error_of([] { weft::Model m(Json{{"input", {0}}, {"layers", {{{"type", "relu"}}}}}); }).find("positive integers") !=
              std::string::npos);
  Json spec = mlp;
  spec["layer"] = 1;
  BOOST_CHECK(error_of([&] { weft::Model m(spec); }).find("unknown key 'layer'") != std::string::npos);
  // A shape that does not fit names the layer, its type and its input shape.
  Json conv_like = {{"input", {2, 3}}, {"layers", {{{"type", "dense"}, {"units", 2}}}}, {"loss", "mse"}};
  const auto msg = error_of([&] { weft::Model m(conv_like); });
  BOOST_CHECK_MESSAGE(msg.find("layer 0 (dense) with input shape (2, 3): dense needs a flat input") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(registering_a_taken_name_names_both_providers) {
  auto& layers = weft::registry().layers;
  weft::set_current_provider("/tmp/libother.so");
  const auto msg = error_of([&] {
    layers.add({"dense", "impostor", Json::object(), [](const weft::Config&) -> std::unique_ptr<weft::Layer> { return nullptr; }});
  });
  weft::set_current_provider("built-in");
  BOOST_CHECK_MESSAGE(msg.find("layer 'dense' is registered twice: by built-in and by /tmp/libother.so") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(resolved_spec_rebuilds_the_same_model) {
  weft::Model a(mlp);
  // Defaults are filled in, so the stored spec does not depend on the defaults of a later version.
  BOOST_CHECK_EQUAL(a.spec()["layers"][0]["init"], "glorot_uniform");
  BOOST_CHECK_EQUAL(a.spec()["layers"][0]["name"], "dense_0");
  weft::Model b(a.spec());
  BOOST_CHECK(b.spec() == a.spec());
  BOOST_CHECK_EQUAL(b.parameter_count(), a.parameter_count());
}
