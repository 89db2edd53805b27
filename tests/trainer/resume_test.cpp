// Exact resume: 2N steps straight equal N steps, state(), a fresh trainer restore(), N more steps
// — the same bits in parameters, optimizer slots and history (Caffe's TestSnapshot, demanding equality).
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "model_helpers.hpp"
#include "trainer_helpers.hpp"
#include "weft/trainer.hpp"

using weft::Json;

namespace {

Json spec_with(const Json& optimizer) {
  return {{"input", {6}},
          {"layers", {{{"type", "dense"}, {"units", 10}, {"init", "he_normal"}}, {{"type", "relu"}}, {{"type", "dense"}, {"units", 3}}}},
          {"loss", "cross_entropy"},
          {"optimizer", optimizer}};
}

weft::Dataset make_resume_data(std::int64_t n) { return weft::testing::random_classification(n, 6, 3, 7); }

using weft::testing::StopAtStep;

struct Run {
  std::vector<float> params, slots;
  std::vector<double> losses;
  std::int64_t steps = 0;
};

Run snapshot(weft::Trainer& t) {
  Run r;
  r.params.assign(t.model().parameters().begin(), t.model().parameters().end());
  for (std::size_t k = 0; k < t.slot_names().size(); ++k) r.slots.insert(r.slots.end(), t.slot(k).begin(), t.slot(k).end());
  for (const auto& m : t.history()) r.losses.push_back(*m.get("loss"));
  r.steps = t.step();
  return r;
}

weft::TrainOptions options_with(const Json& schedule) {
  weft::TrainOptions o;
  o.batch_size = 16;  // 100 samples: 7 mini-batches, the last one short
  o.shard_size = 8;
  o.threads = 2;
  o.seed = 11;
  o.schedule = schedule;
  return o;
}

// resumed_shard: the shard size the resuming trainer is given (0: none, so it takes the run's).
void check_resume_is_exact(const Json& optimizer, const Json& schedule, std::int64_t stop_step,
                           std::int64_t resumed_shard = 8) {
  const auto data = make_resume_data(100), validation = make_resume_data(30);
  const std::int64_t epochs = 3;
  weft::FitOptions fit;
  fit.epochs = epochs;
  fit.validation = &validation;

  weft::Model straight_model(spec_with(optimizer));
  straight_model.initialize(3);
  weft::Trainer straight(straight_model, options_with(schedule));
  straight.fit(data, fit);
  const Run expected = snapshot(straight);

  weft::Model first_model(spec_with(optimizer));
  first_model.initialize(3);
  weft::Trainer first(first_model, options_with(schedule));
  StopAtStep stop(stop_step);
  weft::FitOptions first_fit = fit;
  first_fit.callbacks = {&stop};
  first.fit(data, first_fit);
  BOOST_REQUIRE_EQUAL(first.step(), stop_step);
  const weft::TrainerState state = first.state();

  // A fresh model with the first run's weights (what a checkpoint would load) and a fresh trainer.
  weft::Model second_model(spec_with(optimizer));
  std::copy(first_model.parameters().begin(), first_model.parameters().end(), second_model.parameters().begin());
  weft::TrainOptions other_seed = options_with(schedule);
  other_seed.seed = 999;  // the state brings its own
  other_seed.shard_size = resumed_shard;
  weft::Trainer second(second_model, other_seed);
  second.restore(state);
  BOOST_CHECK_EQUAL(second.step(), stop_step);
  BOOST_CHECK_EQUAL(second.options().shard_size, 8);
  second.fit(data, fit);
  const Run resumed = snapshot(second);

  BOOST_CHECK_EQUAL(resumed.steps, expected.steps);
  BOOST_REQUIRE_EQUAL(resumed.params.size(), expected.params.size());
  BOOST_CHECK(std::memcmp(resumed.params.data(), expected.params.data(), expected.params.size() * sizeof(float)) == 0);
  BOOST_REQUIRE_EQUAL(resumed.slots.size(), expected.slots.size());
  BOOST_CHECK(!expected.slots.empty());
  BOOST_CHECK(std::memcmp(resumed.slots.data(), expected.slots.data(), expected.slots.size() * sizeof(float)) == 0);
  BOOST_CHECK_EQUAL_COLLECTIONS(resumed.losses.begin(), resumed.losses.end(), expected.losses.begin(), expected.losses.end());
}

}  // namespace

BOOST_AUTO_TEST_CASE(resume_mid_epoch_with_adam_and_a_per_step_cosine_schedule_is_bit_identical) {
  // 21 steps in all; stop after 10, in the middle of the second epoch.
  check_resume_is_exact({{"type", "adam"}, {"lr", 0.01}, {"amsgrad", true}},
                        {{"type", "cosine"}, {"total", 21}, {"warmup", 3}, {"unit", "step"}}, 10);
}

BOOST_AUTO_TEST_CASE(resume_at_an_epoch_boundary_keeps_reduce_on_plateau_state) {
  // patience 0 on the training loss: the scale changes as soon as an epoch does not improve.
  check_resume_is_exact({{"type", "sgd"}, {"lr", 0.5}, {"momentum", 0.9}},
                        {{"type", "reduce_on_plateau"}, {"monitor", "val_loss"}, {"patience", 0}, {"factor", 0.5}}, 7);
}

BOOST_AUTO_TEST_CASE(a_trainer_given_no_shard_size_resumes_with_the_one_the_run_used) {
  // The default would be 32 here (16-sample batches); shards of 8 sum the gradient differently.
  check_resume_is_exact({{"type", "adam"}, {"lr", 0.01}}, nullptr, 10, 0);
}

BOOST_AUTO_TEST_CASE(a_state_without_a_shard_size_is_from_runs_that_used_32) {
  weft::Model model(spec_with({{"type", "adam"}}));
  weft::Trainer first(model, options_with(nullptr));
  weft::TrainerState state = first.state();
  BOOST_CHECK_EQUAL(state.json["shard_size"], 8);
  state.json.erase("shard_size");
  weft::TrainOptions defaulted = options_with(nullptr);
  defaulted.shard_size = 0;
  defaulted.batch_size = 1024;  // would default to more than 32 on any machine with at most 32 cores
  weft::Trainer second(model, defaulted);
  second.restore(state);
  BOOST_CHECK_EQUAL(second.options().shard_size, 32);
}

BOOST_AUTO_TEST_CASE(the_default_shard_size_stays_within_32_and_128) {
  BOOST_CHECK_EQUAL(weft::default_shard_size(1), 32);
  BOOST_CHECK_EQUAL(weft::default_shard_size(0), 128);  // full batch
  BOOST_CHECK_EQUAL(weft::default_shard_size(std::int64_t{1} << 30), 128);
  for (std::int64_t b = 1; b < 4096; b *= 2) BOOST_CHECK_LE(weft::default_shard_size(b), weft::default_shard_size(2 * b));
}

BOOST_AUTO_TEST_CASE(restore_rejects_a_state_from_another_optimizer) {
  weft::Model adam_model(spec_with({{"type", "adam"}}));
  weft::Trainer adam(adam_model, options_with(nullptr));
  const auto state = adam.state();
  weft::Model sgd_model(spec_with({{"type", "sgd"}, {"momentum", 0.9}}));
  weft::Trainer sgd(sgd_model, options_with(nullptr));
  const std::string message = weft::testing::error_of([&] { sgd.restore(state); });
  BOOST_CHECK_MESSAGE(message.find("saved with the optimizer") != std::string::npos, message);
  BOOST_CHECK_EQUAL(sgd.step(), 0);
}

BOOST_AUTO_TEST_CASE(state_names_every_slot_by_parameter) {
  weft::Model model(spec_with({{"type", "adam"}}));
  weft::Trainer trainer(model, options_with(nullptr));
  const auto state = trainer.state();
  // 2 dense layers × (weight, bias) × (exp_avg, exp_avg_sq)
  BOOST_REQUIRE_EQUAL(state.tensors.size(), 8u);
  BOOST_CHECK_EQUAL(state.tensors[0].first, "dense_0/weight/exp_avg");
  BOOST_CHECK(state.tensors[0].second.shape() == weft::Shape({10, 6}));
  BOOST_CHECK_EQUAL(state.tensors[7].first, "dense_2/bias/exp_avg_sq");
  BOOST_CHECK_EQUAL(state.json["optimizer"]["type"], "adam");
}
