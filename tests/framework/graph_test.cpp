// Models as graphs: named inputs, fan-out, several model inputs. What a spec may say and the
// one-line errors for what it may not; values and gradients of whole graphs.
#include <boost/test/unit_test.hpp>

#include "model_helpers.hpp"
#include "weft/executor.hpp"
#include "weft/gradient_check.hpp"
#include "weft/graph.hpp"

using weft::Json;
using weft::Shape;
using weft::testing::error_of;

namespace {

std::string spec_error(const Json& spec) { return error_of([&] { weft::Model m(spec); }); }

// x → dense "a" → tanh "t" → dense "b"; out = add(b, a): "a" is read by two layers (fan-out).
const Json residual = {{"input", {4}},
                       {"layers",
                        {{{"type", "dense"}, {"units", 3}, {"name", "a"}},
                         {{"type", "tanh"}, {"name", "t"}},
                         {{"type", "dense"}, {"units", 3}, {"name", "b"}},
                         {{"type", "add"}, {"inputs", {"b", "a"}}}}},
                       {"loss", "mse"}};

// Two inputs: image (2, 3) through a dense, meta (2) concatenated after it, and meta also
// multiplied with itself (the same tensor twice in one layer) and added in.
const Json two_inputs = {{"inputs", {{"image", {2, 3}}, {"meta", {2}}}},
                         {"layers",
                          {{{"type", "flatten"}, {"inputs", {"image"}}},
                           {{"type", "dense"}, {"units", 3}, {"name", "features"}},
                           {{"type", "concat"}, {"inputs", {"features", "meta"}}, {"name", "joined"}},
                           {{"type", "multiply"}, {"inputs", {"meta", "meta"}}, {"name", "square"}},
                           {{"type", "dense"}, {"units", 5}, {"inputs", {"square"}}, {"name", "lift"}},
                           {{"type", "add"}, {"inputs", {"joined", "lift"}}},
                           {{"type", "dense"}, {"units", 2}}}},
                         {"loss", "mse"}};

}  // namespace

BOOST_AUTO_TEST_CASE(a_chain_reads_the_previous_layer_and_its_resolved_spec_is_unchanged) {
  weft::Model chain({{"input", {3}}, {"layers", {{{"type", "dense"}, {"units", 2}}, {{"type", "relu"}}}}, {"loss", "mse"}});
  BOOST_CHECK_EQUAL(chain.input_count(), 1u);
  BOOST_CHECK_EQUAL(chain.input_name(0), "input");
  BOOST_CHECK(chain.layer(0).sources == std::vector<std::size_t>{0});
  BOOST_CHECK(chain.layer(1).sources == std::vector<std::size_t>{1});
  // No "inputs" written back: files and checkpoints from chains compare equal as before.
  for (const auto& layer : chain.spec()["layers"]) BOOST_CHECK(!layer.contains("inputs"));
  BOOST_CHECK(chain.spec().contains("input") && !chain.spec().contains("inputs"));
  // A graph's resolved spec rebuilds the same graph.
  weft::Model graph(two_inputs), again(graph.spec());
  BOOST_CHECK_EQUAL(again.spec().dump(), graph.spec().dump());
  BOOST_CHECK(again.layer(5).sources == graph.layer(5).sources);
  BOOST_CHECK_EQUAL(graph.input_name(0), "image");
  BOOST_CHECK_EQUAL(graph.input_name(1), "meta");
  BOOST_CHECK(graph.output_shape() == Shape{2});
}

BOOST_AUTO_TEST_CASE(a_residual_sum_has_the_values_worked_out_by_hand) {
  // x → relu "r"; out = add(r, input): x = (1, -2, 3) gives (2, -2, 6).
  weft::Model m({{"input", {3}},
                 {"layers", {{{"type", "relu"}, {"name", "r"}}, {{"type", "add"}, {"inputs", {"r", "input"}}}}},
                 {"loss", "mse"}});
  weft::Executor exec(m, {1, 1, true});
  weft::Tensor x(Shape{2, 3}), y(Shape{2, 3}), dx(Shape{2, 3});
  const float xs[] = {1, -2, 3, -1, 0.5f, 0};
  std::copy(std::begin(xs), std::end(xs), x.data());
  exec.forward(x.view(), false, 0, 1);
  exec.copy_output(y);
  const std::vector<float> expected{2, -2, 6, -1, 1, 0};
  BOOST_TEST(std::vector<float>(y.data(), y.data() + 6) == expected, boost::test_tools::per_element());
  // d/dx of Σ dy·out with dy = 1: 1 through the shortcut plus relu'(x) (0 at x = 0, as PyTorch).
  weft::Tensor dy(Shape{2, 3});
  std::fill(dy.data(), dy.data() + 6, 1.0f);
  exec.backward(dy.view());
  exec.copy_input_gradient(dx);
  const std::vector<float> expected_dx{2, 1, 2, 1, 2, 1};
  BOOST_TEST(std::vector<float>(dx.data(), dx.data() + 6) == expected_dx, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(graphs_with_fan_out_and_several_inputs_match_finite_differences) {
  for (const Json& spec : {residual, two_inputs}) {
    const auto r = weft::check_model_gradients(spec);
    BOOST_CHECK_MESSAGE(r.ok, r.report);
    BOOST_CHECK_GT(r.checked, 0);
  }
  // Fan-out into three readers, with batch norm (batch statistics) on one branch.
  const Json three = {{"input", {3, 2, 2}},
                      {"layers",
                       {{{"type", "conv2d"}, {"filters", 3}, {"kernel", 1}, {"name", "c"}},
                        {{"type", "batch_norm"}, {"name", "bn"}},
                        {{"type", "sigmoid"}, {"inputs", {"c"}}, {"name", "s"}},
                        {{"type", "add"}, {"inputs", {"bn", "s", "c"}}}}},
                      {"loss", "mse"}};
  const auto r = weft::check_model_gradients(three);
  BOOST_CHECK_MESSAGE(r.ok, r.report);
}

BOOST_AUTO_TEST_CASE(bad_graphs_are_one_line_errors_naming_the_layer) {
  auto with_layers = [](const Json& layers) { return Json{{"input", {3}}, {"layers", layers}, {"loss", "mse"}}; };
  const std::string later = spec_error(with_layers({{{"type", "relu"}, {"inputs", {"b"}}, {"name", "a"}},
                                                    {{"type", "relu"}, {"name", "b"}}}));
  BOOST_CHECK_MESSAGE(later.find("layer 0 (relu 'a') reads 'b', which is defined after it (layer 1)") != std::string::npos,
                      later);
  const std::string self = spec_error(with_layers({{{"type", "relu"}, {"inputs", {"a"}}, {"name", "a"}}}));
  BOOST_CHECK_MESSAGE(self.find("reads itself") != std::string::npos, self);
  const std::string unknown = spec_error(with_layers({{{"type", "relu"}, {"name", "a"}},
                                                      {{"type", "add"}, {"inputs", {"a", "inptu"}}}}));
  BOOST_CHECK_MESSAGE(unknown.find("reads 'inptu', which is neither a model input nor an earlier layer (known: input, a)") !=
                          std::string::npos,
                      unknown);
  const std::string unused = spec_error(with_layers({{{"type", "relu"}, {"name", "a"}},
                                                     {{"type", "tanh"}, {"inputs", {"input"}}}}));
  BOOST_CHECK_MESSAGE(unused.find("the output of layer 0 ('a') is not read by any layer") != std::string::npos, unused);
  const std::string unused_input = spec_error({{"inputs", {{"image", {3}}, {"meta", {2}}}},
                                               {"layers", {{{"type", "relu"}, {"inputs", {"image"}}}}},
                                               {"loss", "mse"}});
  BOOST_CHECK_MESSAGE(unused_input.find("the model input 'meta' is not read by any layer") != std::string::npos,
                      unused_input);
  const std::string which = spec_error({{"inputs", {{"image", {3}}, {"meta", {2}}}},
                                        {"layers", {{{"type", "relu"}}}},
                                        {"loss", "mse"}});
  BOOST_CHECK_MESSAGE(which.find("several inputs (image, meta)") != std::string::npos, which);
  const std::string both = spec_error({{"input", {3}}, {"inputs", {{"a", {3}}}}, {"layers", {{{"type", "relu"}}}}});
  BOOST_CHECK_MESSAGE(both.find("not both") != std::string::npos, both);
  const std::string clash = spec_error(with_layers({{{"type", "relu"}, {"name", "input"}}}));
  BOOST_CHECK_MESSAGE(clash.find("already used by a model input") != std::string::npos, clash);
  const std::string list = spec_error(with_layers({{{"type", "relu"}, {"inputs", "input"}}}));
  BOOST_CHECK_MESSAGE(list.find("'inputs' must be a non-empty list") != std::string::npos, list);
  const std::string output = spec_error({{"input", {3}}, {"layers", {{{"type", "relu"}}}}, {"output", "nope"}});
  BOOST_CHECK_MESSAGE(output.find("\"output\" must name a layer (known: input, relu_0)") != std::string::npos, output);
  for (const auto* e : {&later, &self, &unknown, &unused, &unused_input, &which, &both, &clash, &list, &output})
    BOOST_CHECK(e->find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_pass_over_several_inputs_checks_each_one) {
  weft::Model m(two_inputs);
  weft::Executor exec(m, {2, 1, false});
  weft::Tensor image(Shape{4, 2, 3}), meta(Shape{4, 2}), short_meta(Shape{3, 2});
  const std::vector<weft::ConstView> one{image.view()};
  BOOST_CHECK_EQUAL(error_of([&] { exec.forward(one, false, 0, 1); }), "the model has 2 inputs, the pass was given 1");
  const std::vector<weft::ConstView> swapped{meta.view(), image.view()};
  const std::string shape = error_of([&] { exec.forward(swapped, false, 0, 1); });
  BOOST_CHECK_MESSAGE(shape.find("model input 'image' must have shape (4, 2, 3)") != std::string::npos, shape);
  const std::vector<weft::ConstView> uneven{image.view(), short_meta.view()};
  const std::string count = error_of([&] { exec.forward(uneven, false, 0, 1); });
  BOOST_CHECK_MESSAGE(count.find("model input 'meta' has 3 samples") != std::string::npos, count);
}

BOOST_AUTO_TEST_CASE(a_chain_shares_two_gradient_buffers_as_a_ping_pong_did) {
  weft::Model chain({{"input", {8}},
                     {"layers", {{{"type", "dense"}, {"units", 6}}, {{"type", "relu"}}, {{"type", "dense"}, {"units", 4}},
                                 {{"type", "relu"}}, {{"type", "dense"}, {"units", 2}}}},
                     {"loss", "mse"}});
  // Buffers sized by what they hold: 6 (the relu/dense outputs of 6) and 6 (the 4s and 2 share
  // one buffer with the 6 that came before them), no input gradient asked.
  weft::Executor exec(chain, {4, 1, false});
  BOOST_CHECK_EQUAL(exec.gradient_floats_per_sample(), 12);
}

BOOST_AUTO_TEST_CASE(the_cpp_graph_builder_writes_the_spec_a_json_file_would) {
  weft::Graph net;
  const weft::Node image = net.input("image", {2, 3}), meta = net.input("meta", {2});
  weft::Node x = net.add(weft::flatten(), image);
  x = net.add(weft::dense(3).with("name", "features"), x);
  const weft::Node joined = net.add(weft::concat(), {x, meta});
  const weft::Node square = net.add(weft::module("multiply").with("name", "square"), {meta, meta});
  const weft::Node lift = net.add(weft::dense(5).with("name", "lift"), square);
  net.add(weft::dense(2), {net.add("add", {joined, lift})});
  net.loss("mse");
  const weft::Model built = net.build();
  // The same graph as the JSON spec two_inputs, which leaves some links implicit.
  const weft::Model json(two_inputs);
  BOOST_CHECK_EQUAL(built.spec()["layers"][2]["name"], "concat_2");
  for (std::size_t l = 0; l < json.layer_count(); ++l) BOOST_CHECK(built.layer(l).sources == json.layer(l).sources);
  BOOST_CHECK_EQUAL(built.layer_count(), 7u);
  BOOST_CHECK(built.output_shape() == Shape{2});
  BOOST_CHECK(built.layer(6).sources == std::vector<std::size_t>{2 + 5});
}

BOOST_AUTO_TEST_CASE(an_output_before_the_last_layer_is_an_error_naming_the_layers_after_it) {
  // Nothing after the output can feed it, so those layers would only waste work: refused.
  const Json base = {{"input", {4}},
                     {"layers",
                      {{{"type", "dense"}, {"units", 3}, {"name", "features"}},
                       {{"type", "relu"}, {"name", "r"}},
                       {{"type", "dense"}, {"units", 2}, {"name", "head"}}}},
                     {"loss", "mse"}};
  Json early = base;
  early["output"] = "features";
  BOOST_CHECK_EQUAL(spec_error(early),
                    "model spec: \"output\" names layer 0 ('features'), but 'r', 'head' come after it and cannot feed "
                    "it (a layer reads only earlier layers): remove them, or leave out \"output\" to use the last layer");
  Json one_after = base;
  one_after["output"] = "r";
  BOOST_CHECK_EQUAL(spec_error(one_after),
                    "model spec: \"output\" names layer 1 ('r'), but 'head' comes after it and cannot feed it (a "
                    "layer reads only earlier layers): remove it, or leave out \"output\" to use the last layer");
  Json last = base;
  last["output"] = "head";  // naming the last layer is what leaving it out means
  BOOST_CHECK_EQUAL(weft::Model(last).output_layer(), 2u);
}
