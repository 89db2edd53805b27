// Learning-rate schedules produce their documented sequences (values worked out in the comments
// from the formulas in modules/schedules/*.cpp, which follow PyTorch's and Keras's definitions).
#include <boost/test/unit_test.hpp>

#include "model_helpers.hpp"
#include "weft/registry.hpp"
#include "weft/training_config.hpp"

using weft::Json;

namespace {

std::vector<double> sequence(const Json& spec, double base, std::int64_t count) {
  auto schedule = weft::registry().schedules.create(spec, "schedule").module;
  std::vector<double> out;
  for (std::int64_t t = 0; t < count; ++t) out.push_back(schedule->rate(base, t));
  return out;
}

void check_sequence(const std::vector<double>& got, const std::vector<double>& want) {
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    BOOST_TEST_CONTEXT("t = " << i) {
      if (want[i] == 0) BOOST_CHECK_SMALL(got[i], 1e-12);
      else BOOST_CHECK_CLOSE(got[i], want[i], 1e-7);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(constant_step_multistep_and_exponential) {
  check_sequence(sequence("constant", 0.3, 3), {0.3, 0.3, 0.3});
  // ⌊t/2⌋ = 0 0 1 1 2 2
  check_sequence(sequence({{"type", "step"}, {"step_size", 2}, {"gamma", 0.5}}, 1.0, 6), {1, 1, 0.5, 0.5, 0.25, 0.25});
  // milestones 2 and 5 passed: 0 0 1 1 1 2 2
  check_sequence(sequence({{"type", "multistep"}, {"milestones", {2, 5}}}, 2.0, 7), {2, 2, 0.2, 0.2, 0.2, 0.02, 0.02});
  check_sequence(sequence({{"type", "exponential"}, {"gamma", 0.5}}, 4.0, 4), {4, 2, 1, 0.5});
}

BOOST_AUTO_TEST_CASE(cosine_annealing_with_and_without_warm_up) {
  // (1 + cos(πt/4))/2 for t = 0..4: 1, 0.853553390593, 0.5, 0.146446609407, 0; then it stays at min_lr.
  check_sequence(sequence({{"type", "cosine"}, {"total", 4}}, 1.0, 6), {1, 0.8535533905932737, 0.5, 0.14644660940672627, 0, 0});
  // warm-up 2: (t+1)/2 = 0.5, 1; then u = t − 2 over T = 4 from 1 down to 0.1:
  // 0.1 + 0.9·(1 + cos(πu/4))/2 = 1, 0.868198051534, 0.55, 0.231801948466, 0.1
  check_sequence(sequence({{"type", "cosine"}, {"total", 6}, {"warmup", 2}, {"min_lr", 0.1}}, 1.0, 8),
                 {0.5, 1, 1, 0.8681980515339464, 0.55, 0.23180194846605365, 0.1, 0.1});
}

BOOST_AUTO_TEST_CASE(one_cycle_follows_pytorch_one_cycle_lr) {
  // total 10, pct_start 0.3: peak at 0.3·10 − 1 = 2, end at 9. initial = 1/25 = 0.04, final = 0.04/1e4.
  // up:   0.04 + (1 − 0.04)·(1 − cos(π·t/2))/2          = 0.04, 0.52, 1
  // down: f + (1 − f)·(1 + cos(π·(t − 2)/7))/2, f = 4e-6 = 0.950484632, 0.811745654, 0.611262022,
  //       0.388741978, 0.188258346, 0.049519368, 4e-6; and 4e-6 after the end.
  check_sequence(sequence({{"type", "one_cycle"}, {"total", 10}}, 1.0, 11),
                 {0.04, 0.52, 1.0, 0.9504846320134737, 0.8117456539497631, 0.6112620219362893, 0.38874197806371075,
                  0.18825834605023697, 0.049519367986526286, 4e-06, 4e-06});
}

BOOST_AUTO_TEST_CASE(reduce_on_plateau_halves_after_patience_and_keeps_state) {
  auto schedule = weft::registry().schedules.create(
      {{"type", "reduce_on_plateau"}, {"monitor", "loss"}, {"patience", 1}, {"factor", 0.5}, {"min_delta", 0.0}}, "schedule").module;
  // losses 1.0 (best), 0.9 (best), 0.95 (1 bad), 0.95 (2 bad > patience: ×0.5), 0.8 (best),
  // 0.85 (1 bad), 0.85 (2 bad: ×0.5) → rates after each epoch 1, 1, 1, 0.5, 0.5, 0.5, 0.25
  const std::vector<double> losses = {1.0, 0.9, 0.95, 0.95, 0.8, 0.85, 0.85};
  std::vector<double> rates;
  weft::Json halfway;
  for (std::size_t e = 0; e < losses.size(); ++e) {
    weft::Metrics m;
    m.set("loss", losses[e]);
    schedule->end_epoch(m);
    rates.push_back(schedule->rate(1.0, 0));
    if (e == 3) halfway = schedule->state();
  }
  check_sequence(rates, {1, 1, 1, 0.5, 0.5, 0.5, 0.25});
  // A fresh schedule restored from the state after epoch 4 continues the same way.
  auto resumed = weft::registry().schedules.create(
      {{"type", "reduce_on_plateau"}, {"monitor", "loss"}, {"patience", 1}, {"factor", 0.5}, {"min_delta", 0.0}}, "schedule").module;
  resumed->restore(halfway);
  std::vector<double> rest;
  for (std::size_t e = 4; e < losses.size(); ++e) {
    weft::Metrics m;
    m.set("loss", losses[e]);
    resumed->end_epoch(m);
    rest.push_back(resumed->rate(1.0, 0));
  }
  check_sequence(rest, {0.5, 0.5, 0.25});
  weft::Metrics no_validation;
  no_validation.set("loss", 1.0);
  auto needs_val = weft::registry().schedules.create("reduce_on_plateau", "schedule").module;
  BOOST_CHECK(weft::testing::error_of([&] { needs_val->end_epoch(no_validation); }).find("'val_loss' is not among") !=
              std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_schedules_are_rejected_when_the_spec_is_read) {
  using weft::testing::error_of;
  auto training_error = [](const Json& training) { return error_of([&] { weft::resolve_training(training); }); };
  BOOST_CHECK(training_error({{"schedule", {{"type", "cosinus"}}}}).find("unknown schedule type 'cosinus'; known schedules:") !=
              std::string::npos);
  BOOST_CHECK(training_error({{"schedule", {{"type", "cosine"}, {"total", 5}, {"warmup", 5}}}}).find("'warmup' must be") !=
              std::string::npos);
  BOOST_CHECK(training_error({{"schedule", {{"type", "step"}}}}).find("'step_size' is required") != std::string::npos);
  BOOST_CHECK(training_error({{"schedule", {{"type", "step"}, {"step_size", 2}, {"unit", "batch"}}}}).find("'unit' must be") !=
              std::string::npos);
  BOOST_CHECK(training_error({{"schedule", {{"type", "multistep"}, {"milestones", {5, 2}}}}}).find("'milestones' must be") !=
              std::string::npos);
  BOOST_CHECK(training_error({{"batch", 0}}).find("'batch' must be an integer >= 1") != std::string::npos);
  BOOST_CHECK(training_error({{"epoch", 3}}).find("unknown setting 'epoch'") != std::string::npos);
  // And through a model spec.
  const std::string model_error = error_of([] {
    weft::Model({{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 1}}}}, {"loss", "mse"},
                 {"training", {{"schedule", {{"type", "exponential"}, {"gamma", -1}}}}}});
  });
  BOOST_CHECK_MESSAGE(model_error.find("training: schedule (exponential): 'gamma' must be a number > 0") != std::string::npos,
                      model_error);
}
