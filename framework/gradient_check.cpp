#include "weft/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>

#include "finite_difference.hpp"
#include "weft/executor.hpp"
#include "weft/model.hpp"
#include "weft/registry.hpp"

namespace weft {

using detail::record_fault;

std::string to_string(GradientFault fault) {
  switch (fault) {
    case GradientFault::mismatch: return "mismatch";
    case GradientFault::unwritten: return "unwritten";
    case GradientFault::state_dependent: return "state_dependent";
    case GradientFault::first_layer: return "first_layer";
    case GradientFault::too_many_kinks: return "too_many_kinks";
  }
  return "?";
}

bool GradientCheckResult::has(GradientFault fault) const {
  return std::find(faults.begin(), faults.end(), fault) != faults.end();
}

namespace {

// What buffers hold before a pass: NaN, which any use propagates and any write removes, or
// finite garbage, which a layer adding into its buffer or reading it first turns into other bits.
enum class Dirt { poison, garbage };

void dirty(std::span<float> buffer, Dirt dirt) {
  if (dirt == Dirt::poison) {
    std::fill(buffer.begin(), buffer.end(), std::numeric_limits<float>::quiet_NaN());
    return;
  }
  for (std::size_t i = 0; i < buffer.size(); ++i)
    buffer[i] = static_cast<float>(i % 2 ? -1000.0 - double(i % 89) : 1000.0 + double(i % 97));
}

// Records `fault` when NaN poison survived in `values` (the pass never wrote those elements).
void check_written(GradientCheckResult& result, GradientFault fault, std::span<const float> values,
                   const std::string& what) {
  const auto left = std::count_if(values.begin(), values.end(), [](float v) { return std::isnan(v); });
  if (left == 0) return;
  const auto first = std::find_if(values.begin(), values.end(), [](float v) { return std::isnan(v); }) - values.begin();
  record_fault(result, fault,
               what + ": " + std::to_string(left) + " of " + std::to_string(values.size()) +
                   " elements left unwritten (NaN poison survived), the first at [" + std::to_string(first) + "]");
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

}  // namespace

namespace {

// The check of check_layer_gradients() over a whole model: `label` names it in the report.
GradientCheckResult check_graph(const Json& spec, const std::string& label, const GradientCheckOptions& o) {
  Model model(spec);
  model.initialize(o.seed);
  const CounterRng rng = CounterRng(o.seed).derive(rng_stream::user);
  // Perturb every parameter so zero-initialised biases and unit scales cannot hide a bug.
  auto params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) params[i] += static_cast<float>(0.2 * (rng.derive(1).uniform_double(i) - 0.5));

  Dirt dirt = Dirt::poison;
  auto scribble = [&dirt](std::span<float> buffer) { dirty(buffer, dirt); };
  Executor exec(model, {o.shard_size, 1, true});
  exec.set_scribble(scribble);
  const std::size_t inputs = model.input_count();
  std::vector<Tensor> xs;
  std::vector<ConstView> x_views;
  for (std::size_t k = 0; k < inputs; ++k) {
    xs.emplace_back(model.input_shape(k).with_batch(o.batch));
    Tensor& x = xs.back();
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<float>(o.input_scale * (2 * rng.derive(2).derive(k).uniform_double(i) - 1));
    x_views.push_back(x);
  }
  Tensor r(model.output_shape().with_batch(o.batch));
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<float>(rng.derive(3).normal(i));
  Tensor y(r.shape());

  auto objective = [&] {
    exec.forward(x_views, o.training, 0, o.seed);
    exec.copy_output(y);
    double sum = 0;
    for (std::size_t i = 0; i < y.size(); ++i) sum += double(r[i]) * double(y[i]);
    return sum;
  };
  const auto table = model.parameter_table();
  // One layer: "dense d/dweight"; a graph: "model d/ddense_0/weight".
  auto param_name = [&](const auto& t) { return label + " d/d" + (model.layer_count() == 1 ? t.param : t.name); };
  auto input_name = [&](std::size_t k) { return label + " d/d" + (inputs > 1 ? model.input_name(k) : std::string("input")); };
  auto grads_of = [](Tensor& grads, const auto& t) { return grads.span().subspan(t.offset, t.size()); };
  GradientCheckResult result;

  // Analytic gradients, every buffer the passes write poisoned first.
  const double f0 = objective();
  check_written(result, GradientFault::unwritten, y.span(), label + " output");
  std::vector<Tensor> dxs, dxs_again;
  Tensor grads(Shape{static_cast<std::int64_t>(model.parameter_count())});
  exec.backward(r);
  for (std::size_t k = 0; k < inputs; ++k) {
    dxs.emplace_back(xs[k].shape());
    exec.copy_input_gradient(k, dxs.back());
    check_written(result, GradientFault::unwritten, dxs.back().span(), input_name(k));
  }
  exec.reduce_gradients(grads.span());
  for (const auto& t : table) check_written(result, GradientFault::unwritten, grads_of(grads, t), param_name(t));

  // The same pass over garbage instead of NaN: a layer that adds into its gradients (or reads
  // them before writing) gives other bits, which would break training from its second step.
  dirt = Dirt::garbage;
  (void)objective();
  exec.backward(r);
  dirt = Dirt::poison;
  Tensor grads_again(grads.shape());
  for (std::size_t k = 0; k < inputs; ++k) {
    dxs_again.emplace_back(xs[k].shape());
    exec.copy_input_gradient(k, dxs_again.back());
  }
  exec.reduce_gradients(grads_again.span());
  const std::string depends = " depends on what its buffer held before backward (added into, or read before written)";
  for (std::size_t k = 0; k < inputs; ++k)
    if (!same_bits(dxs[k].span(), dxs_again[k].span()))
      record_fault(result, GradientFault::state_dependent, input_name(k) + depends);
  for (const auto& t : table)
    if (!same_bits(grads_of(grads, t), grads_of(grads_again, t)))
      record_fault(result, GradientFault::state_dependent, param_name(t) + depends);

  // As the first layer nobody wants dx: the layer must skip it (a layer without parameters
  // then has nothing to do, and must not write through the empty view) and still write the
  // same parameter gradients.
  Executor first(model, {o.shard_size, 1, false});
  first.set_scribble(scribble);
  first.forward(x_views, o.training, 0, o.seed);
  first.backward(r);
  Tensor first_grads(grads.shape());
  first.reduce_gradients(first_grads.span());
  for (const auto& t : table) {
    check_written(result, GradientFault::first_layer, grads_of(first_grads, t), param_name(t) + " with dx empty");
    if (!same_bits(grads_of(grads, t), grads_of(first_grads, t)))
      record_fault(result, GradientFault::first_layer, param_name(t) + " differs when dx is empty (the first layer)");
  }

  for (std::size_t k = 0; k < inputs; ++k)
    detail::check_tensor(result, o, xs[k].data(), dxs[k].data(), xs[k].size(), rng.derive(4).derive(k), input_name(k), f0,
                         objective);
  for (const auto& t : table)
    detail::check_tensor(result, o, params.data() + t.offset, grads.data() + t.offset, t.size(),
                         rng.derive(5).derive(t.offset), param_name(t), f0, objective);
  detail::check_skipped(result, o);
  return result;
}

std::string type_of(const Json& layer) { return layer.is_object() ? layer.value("type", "?") : layer.dump(); }

}  // namespace

GradientCheckResult check_layer_gradients(const Json& layer, const Shape& input, const GradientCheckOptions& o) {
  return check_graph({{"input", input.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}}, type_of(layer), o);
}

GradientCheckResult check_layer_gradients(const Json& layer, const std::vector<Shape>& inputs, const GradientCheckOptions& o) {
  Json spec = {{"inputs", Json::object()}, {"loss", "mse"}};
  Json with_inputs = layer.is_object() ? layer : Json{{"type", layer}};
  with_inputs["inputs"] = Json::array();
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    char name[24];
    std::snprintf(name, sizeof name, "x%02zu", k);  // x00, x01, ...: sorted by name, in order
    spec["inputs"][name] = inputs[k].to_vector();
    with_inputs["inputs"].push_back(name);
  }
  spec["layers"] = Json::array({with_inputs});
  return check_graph(spec, type_of(layer), o);
}

GradientCheckResult check_model_gradients(const Json& spec, const GradientCheckOptions& o) {
  Json checked = spec;
  checked["loss"] = "mse";  // the objective is Σ r·y over the output; the loss plays no part
  checked.erase("optimizer");
  checked.erase("training");
  return check_graph(checked, spec.value("name", "model"), o);
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
  const double weight = loss->batch_weight(target);
  // Shard by shard with the whole batch's weight, as the executor calls a loss.
  auto evaluate = [&](View dpred) {
    double sum = 0;
    for (std::int64_t first = 0; first < o.batch; first += o.shard_size) {
      const std::int64_t count = std::min(o.shard_size, o.batch - first);
      sum += loss->evaluate(pred.view().slice(first, count), target.view().slice(first, count),
                            dpred.empty() ? View() : dpred.slice(first, count), weight);
    }
    return sum;
  };
  GradientCheckResult result;
  const std::string type = loss_spec.is_object() ? loss_spec.value("type", "?") : loss_spec.dump();
  Tensor dpred(pred.shape()), dpred_again(pred.shape());
  dirty(dpred.span(), Dirt::poison);
  (void)evaluate(dpred.view());
  check_written(result, GradientFault::unwritten, dpred.span(), type + " d/dprediction");
  dirty(dpred_again.span(), Dirt::garbage);
  (void)evaluate(dpred_again.view());
  if (!same_bits(dpred.span(), dpred_again.span()))
    record_fault(result, GradientFault::state_dependent,
                 type + " d/dprediction depends on what its buffer held before (added into, or read before written)");

  auto objective = [&] { return evaluate(View()) / weight; };
  detail::check_tensor(result, o, pred.data(), dpred.data(), pred.size(), rng.derive(3), type + " d/dprediction",
                       objective(), objective);
  detail::check_skipped(result, o);
  return result;
}

}  // namespace weft
