#include "weft/gradient_check.hpp"

#include <cmath>
#include <sstream>

#include "weft/executor.hpp"
#include "weft/model.hpp"
#include "weft/registry.hpp"

namespace weft {
namespace {

// Records one comparison into `result`.
void compare(GradientCheckResult& result, const GradientCheckOptions& o, const std::string& what, double analytic,
             double numeric) {
  ++result.checked;
  const double tolerance = o.abs_tolerance + o.rel_tolerance * std::max(std::abs(analytic), std::abs(numeric));
  const double excess = std::abs(analytic - numeric) - tolerance;
  if (excess > 0 || !std::isfinite(analytic)) {
    result.ok = false;
    result.worst_error = std::max(result.worst_error, excess);
    if (std::count(result.report.begin(), result.report.end(), '\n') < 20) {
      std::ostringstream line;
      line << what << ": analytic " << analytic << ", numeric " << numeric << "\n";
      result.report += line.str();
    }
  }
}

// Chooses which coordinates of a tensor of `size` elements to check.
std::vector<std::size_t> sample_coordinates(std::size_t size, std::int64_t wanted, const CounterRng& rng) {
  std::vector<std::size_t> out;
  if (static_cast<std::int64_t>(size) <= wanted) {
    for (std::size_t i = 0; i < size; ++i) out.push_back(i);
  } else {
    for (std::int64_t k = 0; k < wanted; ++k) out.push_back(rng.below(static_cast<std::uint64_t>(k), size));
  }
  return out;
}

// Central difference of `objective` in the coordinate *value, with kink detection.
// Returns false (kink) when the two one-sided slopes disagree far more than curvature explains.
bool central_difference(float* value, double h, const std::function<double()>& objective, double& slope) {
  const float saved = *value;
  const float plus = static_cast<float>(saved + h), minus = static_cast<float>(saved - h);
  // The steps actually taken in float, not the h asked for.
  const double h_up = double(plus) - double(saved), h_down = double(saved) - double(minus);
  const double f0 = objective();
  *value = plus;
  const double up = objective();
  *value = minus;
  const double down = objective();
  *value = saved;
  const double right = (up - f0) / h_up, left = (f0 - down) / h_down;
  slope = (up - down) / (h_up + h_down);
  return std::abs(right - left) <= 0.1 * (std::abs(right) + std::abs(left)) + 1e-3;
}

// Compares analytic[i] with the central difference of `objective` in values[i] at a sample of the
// `size` coordinates (drawn from `pick`); a kink skips the coordinate. `what` names the tensor
// in the report ("dense d/dweight" gives "dense d/dweight[3]").
void check_tensor(GradientCheckResult& result, const GradientCheckOptions& o, float* values, const float* analytic,
                  std::size_t size, const CounterRng& pick, const std::string& what,
                  const std::function<double()>& objective) {
  double slope = 0;
  for (auto i : sample_coordinates(size, o.samples_per_tensor, pick)) {
    if (!central_difference(&values[i], o.step, objective, slope)) {
      ++result.skipped;
      continue;
    }
    compare(result, o, what + "[" + std::to_string(i) + "]", analytic[i], slope);
  }
}

}  // namespace

GradientCheckResult check_layer_gradients(const Json& layer, const Shape& input, const GradientCheckOptions& o) {
  Json spec = {{"input", input.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}};
  Model model(spec);
  model.initialize(o.seed);
  const CounterRng rng = CounterRng(o.seed).derive(rng_stream::user);
  // Perturb every parameter so zero-initialised biases and unit scales cannot hide a bug.
  auto params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) params[i] += static_cast<float>(0.2 * (rng.derive(1).uniform_double(i) - 0.5));

  Executor exec(model, {o.shard_size, 1, true});
  Tensor x(input.with_batch(o.batch));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(o.input_scale * (2 * rng.derive(2).uniform_double(i) - 1));
  Tensor r(model.output_shape().with_batch(o.batch));
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<float>(rng.derive(3).normal(i));
  Tensor y(r.shape());

  auto objective = [&] {
    exec.forward(x, o.training, 0, o.seed);
    exec.copy_output(y);
    double sum = 0;
    for (std::size_t i = 0; i < y.size(); ++i) sum += double(r[i]) * double(y[i]);
    return sum;
  };

  // Analytic gradients.
  (void)objective();
  exec.backward(r);
  Tensor dx(x.shape());
  exec.copy_input_gradient(dx);
  Tensor grads(Shape{static_cast<std::int64_t>(model.parameter_count())});
  exec.reduce_gradients(grads.span());

  GradientCheckResult result;
  const std::string type = layer.is_object() ? layer.value("type", "?") : layer.dump();
  check_tensor(result, o, x.data(), dx.data(), x.size(), rng.derive(4), type + " d/dinput", objective);
  for (const auto& t : model.parameter_table())
    check_tensor(result, o, params.data() + t.offset, grads.data() + t.offset, t.size(), rng.derive(5).derive(t.offset),
                 type + " d/d" + t.param, objective);
  return result;
}

GradientCheckResult check_loss_gradients(const Json& loss_spec, const Shape& prediction, const GradientCheckOptions& o,
                                         const std::function<void(View)>& make_targets) {
  auto loss = registry().losses.create(loss_spec, "loss").module;
  const Shape target_shape = loss->target_shape(prediction);
  const CounterRng rng = CounterRng(o.seed).derive(rng_stream::user);
  Tensor pred(prediction.with_batch(o.batch));
  for (std::size_t i = 0; i < pred.size(); ++i) pred[i] = static_cast<float>(o.input_scale * rng.derive(1).normal(i));
  Tensor target(target_shape.with_batch(o.batch));
  if (make_targets) {
    make_targets(target);
  } else if (target_shape.rank() == 0) {
    for (std::size_t i = 0; i < target.size(); ++i)
      target[i] = static_cast<float>(rng.derive(2).below(i, static_cast<std::uint64_t>(prediction.numel())));
  } else {
    for (std::size_t i = 0; i < target.size(); ++i) target[i] = rng.derive(2).uniform(i);
  }
  Tensor dpred(pred.shape());
  const double weight = loss->batch_weight(target);
  (void)loss->evaluate(pred, target, dpred, weight);
  auto objective = [&] { return loss->evaluate(pred, target, View(), weight) / weight; };
  GradientCheckResult result;
  const std::string type = loss_spec.is_object() ? loss_spec.value("type", "?") : loss_spec.dump();
  check_tensor(result, o, pred.data(), dpred.data(), pred.size(), rng.derive(3), type + " d/dprediction", objective);
  return result;
}

}  // namespace weft
