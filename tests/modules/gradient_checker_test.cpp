// The gradient checker (weft/gradient_check.hpp) against modules broken on purpose: each defect
// must fail the check for the reason it is, and the same module without the defect must pass,
// so that what fails is the defect and not the test module.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "weft/gradient_check.hpp"
#include "weft/registry.hpp"

using weft::GradientCheckOptions;
using weft::GradientCheckResult;
using weft::GradientFault;
using weft::Json;
using weft::Shape;

namespace {

// What a broken test module gets wrong.
enum class Defect {
  none,
  scale_gradient_1_percent,  // d/dscale 1 % too large
  input_gradient_1_percent,  // d/dinput 1 % too large
  accumulates_into_grads,    // d/dscale added to what the buffer held
  skips_last_dx_row,         // the shard's last sample gets no d/dinput
  skips_last_output_row,     // the shard's last sample gets no output
};

// y = scale ⊙ x, with a learned scale of the sample's shape; backward with one defect.
class Scale final : public weft::Layer {
 public:
  explicit Scale(Defect defect) : defect_(defect) {}

  Shape infer(const Shape& input) override {
    sample_ = input;
    return input;
  }
  std::vector<weft::ParamDecl> parameters() const override { return {{"scale", sample_, "ones", false}}; }

  void forward(const weft::ForwardArgs& a) const override {
    const std::int64_t n = a.x.shape()[0], d = sample_.numel();
    const std::int64_t rows = defect_ == Defect::skips_last_output_row ? n - 1 : n;
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t j = 0; j < d; ++j) a.y.data()[i * d + j] = a.params[0].data()[j] * a.x.data()[i * d + j];
  }

  void backward(const weft::BackwardArgs& a) const override {
    const std::int64_t n = a.x.shape()[0], d = sample_.numel();
    const float* dy = a.dy.data();
    float* dscale = a.grads[0].data();
    if (defect_ != Defect::accumulates_into_grads) std::fill_n(dscale, d, 0.0f);
    const float scale_error = defect_ == Defect::scale_gradient_1_percent ? 1.01f : 1.0f;
    const float input_error = defect_ == Defect::input_gradient_1_percent ? 1.01f : 1.0f;
    const std::int64_t dx_rows = defect_ == Defect::skips_last_dx_row ? n - 1 : n;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < d; ++j) {
        dscale[j] += scale_error * dy[i * d + j] * a.x.data()[i * d + j];
        if (!a.dx.empty() && i < dx_rows) a.dx.data()[i * d + j] = input_error * dy[i * d + j] * a.params[0].data()[j];
      }
  }

 private:
  Defect defect_;
  Shape sample_;
};

// How a test loss differs from Σ ½(p − t)² over the elements with its exact gradient.
struct LossVariant {
  double gradient_factor = 1.0;  // 1.02: a gradient 2 % too large
  bool absolute = false;         // Σ |p| instead: a kink at 0, every point a kink when the
                                 // predictions are drawn closer to 0 than the checker's step
  bool accumulates = false;      // adds its gradient to what dpred held
};

class Square final : public weft::Loss {
 public:
  explicit Square(LossVariant variant) : v_(variant) {}

  Shape target_shape(const Shape& prediction) const override { return prediction; }

  double evaluate(weft::ConstView pred, weft::ConstView target, weft::View dpred, double weight) const override {
    double sum = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
      const double p = pred[i], t = target[i];
      sum += v_.absolute ? std::abs(p) : 0.5 * (p - t) * (p - t);
      const double derivative = v_.absolute ? (p > 0) - (p < 0) : p - t;
      if (dpred.empty()) continue;
      const auto gradient = static_cast<float>(v_.gradient_factor * derivative / weight);
      dpred[i] = v_.accumulates ? dpred[i] + gradient : gradient;
    }
    return sum;
  }

 private:
  LossVariant v_;
};

// Registers the test layer with `defect` once, and returns its spec.
Json scale_layer(const std::string& name, Defect defect) {
  auto& layers = weft::registry().layers;
  if (!layers.contains(name))
    layers.add({name, "test only", Json::object(), [defect](const weft::Config&) { return std::make_unique<Scale>(defect); }});
  return {{"type", name}};
}

Json square_loss(const std::string& name, LossVariant variant = {}) {
  auto& losses = weft::registry().losses;
  if (!losses.contains(name))
    losses.add({name, "test only", Json::object(), [variant](const weft::Config&) { return std::make_unique<Square>(variant); }});
  return {{"type", name}};
}

// The report says why, in the checker's words, for a reader of the test log.
std::string failure_of(const GradientCheckResult& r) {
  std::string faults;
  for (auto f : r.faults) faults += weft::to_string(f) + " ";
  return "faults: " + faults + "\n" + r.report;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_same_modules_without_their_defect_pass) {
  const auto layer = weft::check_layer_gradients(scale_layer("test_scale", Defect::none), Shape{2, 3});
  BOOST_CHECK_MESSAGE(layer.ok, failure_of(layer));
  BOOST_CHECK_GT(layer.checked, 0);
  const auto loss = weft::check_loss_gradients(square_loss("test_square"), Shape{4});
  BOOST_CHECK_MESSAGE(loss.ok, failure_of(loss));
  BOOST_CHECK_GT(loss.checked, 0);
}

BOOST_AUTO_TEST_CASE(a_parameter_gradient_1_percent_wrong_fails) {
  const auto r = weft::check_layer_gradients(scale_layer("test_scale_wrong", Defect::scale_gradient_1_percent), Shape{2, 3});
  BOOST_CHECK(!r.ok);
  BOOST_CHECK_MESSAGE(r.has(GradientFault::mismatch), failure_of(r));
  BOOST_CHECK_GT(r.worst_ratio, 1.0);
  BOOST_CHECK_MESSAGE(r.report.find("d/dscale") != std::string::npos, r.report);
}

BOOST_AUTO_TEST_CASE(an_input_gradient_1_percent_wrong_fails) {
  const auto r = weft::check_layer_gradients(scale_layer("test_scale_wrong_dx", Defect::input_gradient_1_percent), Shape{5});
  BOOST_CHECK(!r.ok);
  BOOST_CHECK_MESSAGE(r.has(GradientFault::mismatch), failure_of(r));
  BOOST_CHECK_MESSAGE(r.report.find("d/dinput") != std::string::npos, r.report);
}

BOOST_AUTO_TEST_CASE(a_layer_adding_into_its_gradients_fails) {
  // Its values are right on buffers that happen to be zero; the poison and the second pass
  // over garbage are what expose it.
  const auto r = weft::check_layer_gradients(scale_layer("test_scale_accumulating", Defect::accumulates_into_grads), Shape{4});
  BOOST_CHECK(!r.ok);
  BOOST_CHECK_MESSAGE(r.has(GradientFault::unwritten), failure_of(r));
  BOOST_CHECK_MESSAGE(r.has(GradientFault::state_dependent), failure_of(r));
  BOOST_CHECK_MESSAGE(r.has(GradientFault::first_layer), failure_of(r));
}

BOOST_AUTO_TEST_CASE(a_layer_leaving_a_row_of_dx_unwritten_fails) {
  const auto r = weft::check_layer_gradients(scale_layer("test_scale_short_dx", Defect::skips_last_dx_row), Shape{3});
  BOOST_CHECK(!r.ok);
  BOOST_CHECK_MESSAGE(r.has(GradientFault::unwritten), failure_of(r));
  BOOST_CHECK_MESSAGE(r.report.find("d/dinput") != std::string::npos, r.report);
  // The parameter gradient is right: only dx is blamed.
  BOOST_CHECK_MESSAGE(r.report.find("d/dscale") == std::string::npos, r.report);
}

BOOST_AUTO_TEST_CASE(a_layer_leaving_a_row_of_its_output_unwritten_fails) {
  const auto r = weft::check_layer_gradients(scale_layer("test_scale_short_y", Defect::skips_last_output_row), Shape{3});
  BOOST_CHECK(!r.ok);
  BOOST_CHECK_MESSAGE(r.has(GradientFault::unwritten), failure_of(r));
  BOOST_CHECK_MESSAGE(r.report.find("output") != std::string::npos, r.report);
}

BOOST_AUTO_TEST_CASE(a_loss_gradient_2_percent_wrong_fails) {
  // Mean-scaled loss gradients are of order 1/batch: the tolerance must follow their scale.
  const auto r = weft::check_loss_gradients(square_loss("test_square_wrong", {.gradient_factor = 1.02}), Shape{3});
  BOOST_CHECK(!r.ok);
  BOOST_CHECK_MESSAGE(r.has(GradientFault::mismatch), failure_of(r));
  BOOST_CHECK_GT(r.worst_ratio, 1.0);
}

BOOST_AUTO_TEST_CASE(a_loss_adding_into_its_gradient_fails) {
  const auto r = weft::check_loss_gradients(square_loss("test_square_accumulating", {.accumulates = true}), Shape{3});
  BOOST_CHECK(!r.ok);
  BOOST_CHECK_MESSAGE(r.has(GradientFault::unwritten), failure_of(r));
  BOOST_CHECK_MESSAGE(r.has(GradientFault::state_dependent), failure_of(r));
}

BOOST_AUTO_TEST_CASE(a_loss_with_a_kink_at_every_point_fails_for_checking_nothing) {
  GradientCheckOptions at_the_kink;
  at_the_kink.input_scale = 1e-4;  // far inside ±step around |p|'s kink at 0
  const auto r = weft::check_loss_gradients(square_loss("test_absolute", {.absolute = true}), Shape{4}, at_the_kink);
  BOOST_CHECK(!r.ok);
  BOOST_CHECK_MESSAGE(r.has(GradientFault::too_many_kinks), failure_of(r));
  BOOST_CHECK_EQUAL(r.checked, 0);
  // The same loss away from its kink is right.
  const auto away = weft::check_loss_gradients(square_loss("test_absolute", {.absolute = true}), Shape{4});
  BOOST_CHECK_MESSAGE(away.ok, failure_of(away));
}
