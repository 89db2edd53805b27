// Activation reuse in inference (ExecutorOptions::reuse_activations): outputs share buffers once
// their last reader has run. With every reused buffer poisoned (NaN) just before its new layer
// writes it, a layer that read a tensor whose buffer was taken over would turn the output NaN or
// change it: the outputs must equal, bit for bit, those of an executor that keeps every
// activation, on fan-out graphs, several inputs and the example models. Training and backward
// are refused on a reusing executor (backward reads activations reuse has given away).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "model_helpers.hpp"
#include "weft/executor.hpp"
#include "weft/trainer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::error_of;

using weft::testing::random_normal;

namespace {

// "d" (after dropout) is read by a branch, by the add two layers later and by the concat at the
// end: a long-lived tensor next to short-lived ones, with batch norm and a "same"-shaped chain.
const Json fan_out = {{"inputs", {{"x", {6}}, {"side", {3}}}},
                      {"layers",
                       {{{"type", "dense"}, {"units", 8}, {"inputs", {"x"}}, {"name", "a"}},
                        {{"type", "dropout"}, {"rate", 0.25}, {"name", "d"}},
                        {{"type", "dense"}, {"units", 8}},
                        {{"type", "batch_norm"}, {"name", "bn"}},
                        {{"type", "tanh"}},
                        {{"type", "add"}, {"inputs", {"tanh_4", "d"}}, {"name", "sum"}},
                        {{"type", "relu"}},
                        {{"type", "dense"}, {"units", 3}, {"inputs", {"side"}}, {"name", "s"}},
                        {{"type", "multiply"}, {"inputs", {"s", "s"}}, {"name", "sq"}},
                        {{"type", "concat"}, {"inputs", {"relu_6", "d", "sq"}}},
                        {{"type", "dense"}, {"units", 4}}}},
                      {"loss", "cross_entropy"}};

// The model's outputs for `n` random samples, with or without reuse (and then poisoning).
Tensor outputs(weft::Model& model, std::int64_t n, bool reuse, std::int64_t* floats = nullptr) {
  weft::Executor exec(model, {.shard_size = 5, .threads = 2, .reuse_activations = reuse});
  if (reuse) exec.set_scribble([](std::span<float> s) { std::fill(s.begin(), s.end(), std::numeric_limits<float>::quiet_NaN()); });
  std::vector<Tensor> xs;
  std::vector<weft::ConstView> views;
  for (std::size_t i = 0; i < model.input_count(); ++i) xs.push_back(random_normal(model.input_shape(i).with_batch(n), 7 + i));
  for (const auto& x : xs) views.emplace_back(x.view());
  exec.forward(views, false, 0, 1);
  Tensor out(model.output_shape().with_batch(n));
  exec.copy_output(out.view());
  if (floats) *floats = exec.activation_floats_per_sample();
  return out;
}

void check_reuse_changes_nothing(const Json& spec, std::int64_t n) {
  weft::Model model(spec);
  model.initialize(2);
  std::int64_t kept = 0, reused = 0;
  const Tensor a = outputs(model, n, false, &kept), b = outputs(model, n, true, &reused);
  for (std::size_t i = 0; i < b.size(); ++i) BOOST_REQUIRE(std::isfinite(b[i]));
  BOOST_CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  BOOST_CHECK_LT(reused, kept);  // buffers were shared: the comparison is not vacuous
}

}  // namespace

BOOST_AUTO_TEST_CASE(reused_buffers_never_hold_a_tensor_a_later_layer_reads) {
  check_reuse_changes_nothing(fan_out, 13);  // three shards, the last one short
}

BOOST_AUTO_TEST_CASE(the_example_models_predict_the_same_bits_with_reuse) {
  for (const char* name : {"fashion_mlp", "fashion_cnn", "fashion_resnet"}) {
    BOOST_TEST_CONTEXT(name) {
      check_reuse_changes_nothing(weft::read_spec_file(std::string(WEFT_SOURCE_DIR "/examples/models/") + name + ".json"), 6);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_chain_needs_two_activation_buffers_in_inference) {
  // dense 8 → relu → dense 8 → relu → dense 2: two buffers of 8, the output in the first again.
  const Json chain = weft::testing::dense_relu_chain();
  weft::Model model(chain);
  BOOST_CHECK_EQUAL(weft::Executor(model, {.reuse_activations = true}).activation_floats_per_sample(), 16);
  BOOST_CHECK_EQUAL(weft::Executor(model, {.free_unneeded_activations = false}).activation_floats_per_sample(), 8 + 8 + 8 + 8 + 2);
}

BOOST_AUTO_TEST_CASE(a_reusing_executor_refuses_training_and_backward) {
  weft::Model model(fan_out);
  weft::Executor exec(model, {.reuse_activations = true});
  const Tensor x = random_normal(Shape{4, 6}, 1), side = random_normal(Shape{4, 3}, 2), y(Shape{4});
  const std::vector<weft::ConstView> xs = {side.view(), x.view()};  // inputs in name order
  BOOST_CHECK_EQUAL(error_of([&] { exec.forward(xs, true, 0, 1); }),
                    "this executor reuses activation buffers (inference only): a training pass needs one without reuse");
  exec.forward(xs, false, 0, 1);
  BOOST_CHECK(std::isfinite(exec.loss(y.view(), true)));
  BOOST_CHECK_EQUAL(error_of([&] { exec.backward(); }),
                    "this executor reuses activation buffers (inference only): backward() needs one without reuse");
}

BOOST_AUTO_TEST_CASE(evaluation_after_training_matches_a_pass_that_keeps_every_activation) {
  // The trainer's evaluate() and predict() run on a reusing executor; a plain one must agree.
  weft::Model model(weft::read_spec_file(WEFT_SOURCE_DIR "/examples/models/fashion_resnet.json"));
  model.initialize(4);
  weft::Trainer trainer(model, {.batch_size = 8, .shard_size = 4, .threads = 2, .seed = 1});
  const Tensor x = random_normal(Shape{8, 1, 28, 28}, 3);
  Tensor y(Shape{8});
  for (std::int64_t i = 0; i < 8; ++i) y[static_cast<std::size_t>(i)] = static_cast<float>(i);
  trainer.train_step(x.view(), y.view());  // batch norm's running statistics move
  const Tensor predicted = trainer.predict(x.view());
  weft::Executor plain(model, {.shard_size = weft::inference_shard_size(model), .threads = 1});
  plain.forward(x.view(), false, trainer.step(), 1);
  Tensor expected(Shape{8, 10});
  plain.copy_output(expected.view());
  BOOST_CHECK(std::memcmp(predicted.data(), expected.data(), expected.size() * sizeof(float)) == 0);
}
