// Activation reuse in training (ExecutorOptions::free_unneeded_activations): an output that no
// backward reads (Layer::backward_needs) gives its buffer away after its last reader's forward.
// Once a later tensor has taken a dead buffer, a backward reading a tensor it did not declare would turn its
// gradients NaN or change them: the loss, output, parameter and input gradients of a training
// step must equal, bit for bit, those of an executor that keeps every activation. Each built-in
// layer is put where both its input and its output can be freed; a layer that lies about what
// it reads must be caught, and the same layer telling the truth must pass.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "model_helpers.hpp"
#include "weft/executor.hpp"
#include "weft/registry.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;

using weft::testing::random_normal;
using weft::testing::same_bits;

namespace {

// What one training step computes.
struct Step {
  double loss = 0;
  Tensor output, gradient, input_gradient;
  std::int64_t floats = 0;  // activation floats per sample
};

// One training step (dropout on, batch statistics) on n random samples and mse targets of the
// output's shape; with `reuse`, dead activation buffers are given away and poisoned.
Step train_step(weft::Model& model, std::int64_t n, bool reuse) {
  weft::Executor exec(model, {.shard_size = 3, .threads = 2, .input_gradient = true, .free_unneeded_activations = reuse});
  const Tensor x = random_normal(model.input_shape(0).with_batch(n), 5);
  Tensor targets = random_normal(model.target_shape().with_batch(n), 6);
  if (model.target_shape().rank() == 0)  // class labels
    for (std::int64_t i = 0; i < n; ++i) targets[static_cast<std::size_t>(i)] = static_cast<float>(i % 10);
  Step s;
  exec.forward(x.view(), true, 3, 11);
  s.loss = exec.loss(targets.view(), true);
  exec.backward();
  s.gradient = Tensor(Shape{static_cast<std::int64_t>(model.parameter_count())});
  exec.reduce_gradients(s.gradient.span());
  s.output = Tensor(model.output_shape().with_batch(n));
  exec.copy_output(s.output.view());
  s.input_gradient = Tensor(x.shape());
  exec.copy_input_gradient(s.input_gradient.view());
  s.floats = exec.activation_floats_per_sample();
  return s;
}

// Whether a training step gives the same bits with and without reuse (and reports what differs).
bool reuse_changes_nothing(const Json& spec, std::int64_t* kept = nullptr, std::int64_t* reused = nullptr) {
  weft::Model model(spec);
  model.initialize(2);
  const Step a = train_step(model, 7, false), b = train_step(model, 7, true);  // shards of 3, 3 and 1
  if (kept) *kept = a.floats;
  if (reused) *reused = b.floats;
  const bool loss = std::memcmp(&a.loss, &b.loss, sizeof a.loss) == 0, output = same_bits(a.output, b.output),
             gradient = same_bits(a.gradient, b.gradient), input = same_bits(a.input_gradient, b.input_gradient);
  BOOST_TEST_MESSAGE("loss " << loss << " output " << output << " gradient " << gradient << " input gradient " << input);
  return loss && output && gradient && input;
}

// input (2, 6, 6) → conv "pre" → `layer` → flatten → dense 3, mse: `layer`'s input dies after
// its forward unless it declares it, its output after flatten's unless it declares it.
Json around(const Json& layer) {
  return {{"input", {2, 6, 6}},
          {"layers",
           {{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"padding", 1}, {"name", "pre"}},
            layer,
            {{"type", "flatten"}},
            {{"type", "dense"}, {"units", 3}}}},
          {"loss", "mse"}};
}

// The same for a merge of "pre" and a second convolution of the input.
Json around_merge(const std::string& type) {
  return {{"input", {2, 6, 6}},
          {"layers",
           {{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"padding", 1}, {"name", "pre"}},
            {{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"padding", 1}, {"inputs", {"input"}}, {"name", "pre2"}},
            {{"type", type}, {"inputs", {"pre", "pre2"}}},
            {{"type", "flatten"}},
            {{"type", "dense"}, {"units", 3}}}},
          {"loss", "mse"}};
}

// y = x², whose backward reads x: declared (honest) or not (lying).
class Square final : public weft::Layer {
 public:
  explicit Square(bool honest) : honest_(honest) {}
  Shape infer(const Shape& input) override { return input; }
  weft::BackwardNeeds backward_needs() const override { return {.inputs = honest_, .output = false}; }
  void forward(const weft::ForwardArgs& a) const override {
    for (std::size_t i = 0; i < a.y.size(); ++i) a.y[i] = a.x[i] * a.x[i];
  }
  void backward(const weft::BackwardArgs& a) const override {
    if (!a.dx.empty())
      for (std::size_t i = 0; i < a.dx.size(); ++i) a.dx[i] = 2 * a.x[i] * a.dy[i];
  }

 private:
  bool honest_;
};

Json with(Json layer, const Json& settings) {
  layer.merge_patch(settings);
  return layer;
}

Json square_layer(bool honest) {
  const std::string name = honest ? "test_square_honest" : "test_square_lying";
  auto& layers = weft::registry().layers;
  if (!layers.contains(name))
    layers.add({name, "test only", Json::object(), [honest](const weft::Config&) { return std::make_unique<Square>(honest); }});
  return {{"type", name}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_built_in_layer_declares_what_its_backward_reads) {
  const Json conv = {{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"padding", 1}};
  std::vector<Json> layers;
  for (const char* type : {"relu", "sigmoid", "tanh", "identity", "leaky_relu", "elu", "selu", "hard_sigmoid", "gelu",
                           "silu", "swish", "softplus", "softmax", "log_softmax", "batch_norm", "layer_norm", "dropout",
                           "spatial_dropout", "flatten", "global_max_pool", "global_avg_pool"})
    layers.push_back({{"type", type}});
  layers.push_back({{"type", "reshape"}, {"shape", {72}}});
  layers.push_back({{"type", "max_pool2d"}, {"kernel", 2}});
  layers.push_back({{"type", "max_pool2d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}});
  layers.push_back({{"type", "avg_pool2d"}, {"kernel", 2}});
  layers.push_back(conv);
  layers.push_back(with(conv, {{"activation", "relu"}}));
  layers.push_back(with(conv, {{"stride", 2}}));  // im2col rather than shifted windows
  layers.push_back(with(conv, {{"stride", 2}, {"activation", "relu"}}));
  layers.push_back({{"type", "conv_transpose2d"}, {"filters", 2}, {"kernel", 3}});
  for (const auto& layer : layers)
    BOOST_TEST_CONTEXT(layer.dump()) { BOOST_CHECK(reuse_changes_nothing(around(layer))); }
  // Dense, with and without its fused relu, between two flat layers.
  for (const char* activation : {"none", "relu"}) {
    Json spec = around({{"type", "flatten"}, {"name", "flat"}});
    spec["layers"][2] = {{"type", "dense"}, {"units", 5}, {"activation", activation}};
    BOOST_TEST_CONTEXT(activation) { BOOST_CHECK(reuse_changes_nothing(spec)); }
  }
  for (const char* type : {"add", "subtract", "multiply", "concat"})
    BOOST_TEST_CONTEXT(type) { BOOST_CHECK(reuse_changes_nothing(around_merge(type))); }
}

BOOST_AUTO_TEST_CASE(a_fused_convolution_and_pooling_declares_what_the_pair_reads) {
  for (const char* activation : {"none", "relu"}) {
    Json spec = around({{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"padding", 1}, {"activation", activation}});
    spec["layers"].insert(spec["layers"].begin() + 2, Json{{"type", "max_pool2d"}, {"kernel", 2}});
    weft::Model model(spec);
    BOOST_REQUIRE(weft::Executor(model, {}).fused_with_next(1));
    BOOST_TEST_CONTEXT(activation) { BOOST_CHECK(reuse_changes_nothing(spec)); }
  }
}

BOOST_AUTO_TEST_CASE(a_layer_reading_an_input_it_did_not_declare_is_caught) {
  // The check above would pass vacuously if nothing were freed or poisoned: the lying square's
  // input is, and its gradients change; the honest one keeps its input and passes.
  BOOST_CHECK(!reuse_changes_nothing(around(square_layer(false))));
  BOOST_CHECK(reuse_changes_nothing(around(square_layer(true))));
}

BOOST_AUTO_TEST_CASE(the_example_models_train_the_same_bits_with_less_memory) {
  for (const char* name : {"fashion_mlp", "fashion_cnn", "fashion_resnet"}) {
    BOOST_TEST_CONTEXT(name) {
      std::int64_t kept = 0, reused = 0;
      BOOST_CHECK(reuse_changes_nothing(weft::read_spec_file(std::string(WEFT_SOURCE_DIR "/examples/models/") + name + ".json"),
                                        &kept, &reused));
      // fashion_cnn's backward reads every tensor it stores (its convolutions run fused): no less.
      if (std::string(name) == "fashion_cnn") BOOST_CHECK_EQUAL(reused, kept);
      else BOOST_CHECK_LT(reused, kept);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_chain_keeps_only_what_backward_reads) {
  // dense 8 → relu → dense 8 → relu → dense 2: backward reads the relus' outputs (relu's own and
  // the next dense's input) and the model output; the dense outputs, read by relu only in
  // forward, take turns in one buffer with the model output: 8 + 8 + 8 instead of 34.
  const Json chain = weft::testing::dense_relu_chain();
  weft::Model model(chain);
  BOOST_CHECK_EQUAL(weft::Executor(model, {}).activation_floats_per_sample(), 24);
  BOOST_CHECK_EQUAL(weft::Executor(model, {.free_unneeded_activations = false}).activation_floats_per_sample(), 34);
  BOOST_CHECK(reuse_changes_nothing(chain));
}
