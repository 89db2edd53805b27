// add, subtract, multiply and concat: values worked out by hand (with PyTorch's broadcasting),
// gradients by finite differences, and the shapes they refuse.
#include <boost/test/unit_test.hpp>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "weft/executor.hpp"

using weft::Json;
using weft::Shape;

WEFT_GRADIENT_CASES(merge) {
  merge_layer({{"type", "add"}}, {Shape{3, 4}, Shape{3, 4}});
  merge_layer({{"type", "add"}}, {Shape{2, 3}, Shape{2, 3}, Shape{2, 3}});
  merge_layer({{"type", "add"}}, {Shape{3, 2, 2}, Shape{3, 1, 1}});
  merge_layer({{"type", "add"}}, {Shape{1, 4}, Shape{3, 1}});  // both broadcast: (3, 4)
  merge_layer({{"type", "subtract"}}, {Shape{5}, Shape{5}});
  merge_layer({{"type", "subtract"}}, {Shape{2, 1}, Shape{2, 3}});
  merge_layer({{"type", "multiply"}}, {Shape{2, 3}, Shape{2, 3}});
  merge_layer({{"type", "multiply"}}, {Shape{2, 3}, Shape{1, 3}, Shape{2, 1}});
  merge_layer({{"type", "concat"}}, {Shape{2, 3}, Shape{1, 3}});
  merge_layer({{"type", "concat"}, {"axis", -1}}, {Shape{2, 2, 1}, Shape{2, 2, 3}, Shape{2, 2, 2}});
}

namespace {

// Runs a model whose one layer reads inputs "a" and "b" (one sample each), returning its output.
std::vector<float> run_merge(const Json& layer, const Shape& a, const std::vector<float>& av, const Shape& b,
                             const std::vector<float>& bv, Shape* out_shape = nullptr) {
  Json l = layer;
  l["inputs"] = {"a", "b"};
  weft::Model model({{"inputs", {{"a", a.to_vector()}, {"b", b.to_vector()}}}, {"layers", {l}}, {"loss", "mse"}});
  weft::Executor exec(model, {2, 1, false});
  weft::Tensor x(a.with_batch(1)), y(b.with_batch(1));
  std::copy(av.begin(), av.end(), x.data());
  std::copy(bv.begin(), bv.end(), y.data());
  const std::vector<weft::ConstView> inputs{x.view(), y.view()};
  exec.forward(inputs, false, 0, 1);
  weft::Tensor out(model.output_shape().with_batch(1));
  exec.copy_output(out);
  if (out_shape) *out_shape = model.output_shape();
  return {out.data(), out.data() + out.size()};
}

std::string merge_error(const Json& layer, const Shape& a, const Shape& b) {
  Json l = layer;
  l["inputs"] = {"a", "b"};
  return weft::testing::error_of(
      [&] { weft::Model({{"inputs", {{"a", a.to_vector()}, {"b", b.to_vector()}}}, {"layers", {l}}, {"loss", "mse"}}); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(elementwise_layers_broadcast_size_one_axes_as_pytorch) {
  // a = [[1, 2, 3], [4, 5, 6]] (2, 3); b = [[10], [20]] (2, 1): b repeats along axis 1.
  const std::vector<float> a{1, 2, 3, 4, 5, 6}, b{10, 20};
  Shape shape;
  BOOST_TEST(run_merge({{"type", "add"}}, Shape{2, 3}, a, Shape{2, 1}, b, &shape) ==
                 (std::vector<float>{11, 12, 13, 24, 25, 26}),
             boost::test_tools::per_element());
  BOOST_CHECK(shape == (Shape{2, 3}));
  BOOST_TEST(run_merge({{"type", "subtract"}}, Shape{2, 3}, a, Shape{2, 1}, b) ==
                 (std::vector<float>{-9, -8, -7, -16, -15, -14}),
             boost::test_tools::per_element());
  BOOST_TEST(run_merge({{"type", "multiply"}}, Shape{2, 3}, a, Shape{2, 1}, b) ==
                 (std::vector<float>{10, 20, 30, 80, 100, 120}),
             boost::test_tools::per_element());
  // (1, 3) with (2, 1): an outer sum, torch.tensor([[1, 2, 3]]) + torch.tensor([[10], [20]]).
  BOOST_TEST(run_merge({{"type", "add"}}, Shape{1, 3}, {1, 2, 3}, Shape{2, 1}, b, &shape) ==
                 (std::vector<float>{11, 12, 13, 21, 22, 23}),
             boost::test_tools::per_element());
  BOOST_CHECK(shape == (Shape{2, 3}));
}

BOOST_AUTO_TEST_CASE(concat_joins_along_the_axis) {
  // a (2, 2) = [[1, 2], [3, 4]], b (1, 2) = [[5, 6]] along axis 0: rows appended.
  Shape shape;
  BOOST_TEST(run_merge({{"type", "concat"}}, Shape{2, 2}, {1, 2, 3, 4}, Shape{1, 2}, {5, 6}, &shape) ==
                 (std::vector<float>{1, 2, 3, 4, 5, 6}),
             boost::test_tools::per_element());
  BOOST_CHECK(shape == (Shape{3, 2}));
  // a (2, 2), b (2, 1) = [[7], [8]] along the last axis: [[1, 2, 7], [3, 4, 8]].
  BOOST_TEST(run_merge({{"type", "concat"}, {"axis", -1}}, Shape{2, 2}, {1, 2, 3, 4}, Shape{2, 1}, {7, 8}, &shape) ==
                 (std::vector<float>{1, 2, 7, 3, 4, 8}),
             boost::test_tools::per_element());
  BOOST_CHECK(shape == (Shape{2, 3}));
}

BOOST_AUTO_TEST_CASE(merge_layers_refuse_shapes_that_do_not_meet_naming_both_inputs) {
  const std::string add = merge_error({{"type", "add"}}, Shape{8, 4, 4}, Shape{16, 4, 4});
  BOOST_CHECK_MESSAGE(add.find("'a' (8, 4, 4) and 'b' (16, 4, 4)") != std::string::npos &&
                          add.find("axis 0 (8 vs 16)") != std::string::npos,
                      add);
  const std::string rank = merge_error({{"type", "multiply"}}, Shape{3, 4}, Shape{4});
  BOOST_CHECK_MESSAGE(rank.find("same number of per-sample axes") != std::string::npos, rank);
  const std::string cat = merge_error({{"type", "concat"}}, Shape{2, 3}, Shape{2, 4});
  BOOST_CHECK_MESSAGE(cat.find("equal in every axis but 0") != std::string::npos, cat);
  const std::string axis = merge_error({{"type", "concat"}, {"axis", 2}}, Shape{2, 3}, Shape{2, 3});
  BOOST_CHECK_MESSAGE(axis.find("'axis' 2 is outside") != std::string::npos, axis);
  // One input is not a merge.
  const std::string one = weft::testing::error_of(
      [] { weft::Model({{"input", {3}}, {"layers", {{{"type", "add"}}}}, {"loss", "mse"}}); });
  BOOST_CHECK_MESSAGE(one.find("add reads at least 2 inputs") != std::string::npos, one);
  const std::string three = weft::testing::error_of([] {
    weft::Model({{"input", {3}},
                 {"layers", {{{"type", "relu"}, {"name", "r"}}, {{"type", "subtract"}, {"inputs", {"r", "r", "input"}}}}},
                 {"loss", "mse"}});
  });
  BOOST_CHECK_MESSAGE(three.find("subtract reads 2 inputs") != std::string::npos, three);
}
