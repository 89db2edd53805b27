// Early stopping across a checkpoint: its state (best value, epochs without improvement, the best
// epoch's weights) is saved with every checkpoint, and a run resumed from any of them stops at
// the same epoch with the same weights, bit for bit, as the run that was never interrupted.
#include <boost/test/unit_test.hpp>

#include "model_helpers.hpp"
#include "weft/callbacks.hpp"
#include "weft/io/checkpoint.hpp"
#include "weft/io/checkpoint_callback.hpp"
#include "weft/trainer.hpp"
#include "weft/training_config.hpp"

using weft::Json;
using weft::testing::error_of;

namespace {

// Dropout makes the weights depend on the random state too; batch_norm brings buffers.
const Json early_stopping_spec = {{"input", {3}},
                   {"layers",
                    {{{"type", "dense"}, {"units", 4}},
                     {{"type", "batch_norm"}},
                     {{"type", "dropout"}, {"rate", 0.25}},
                     {{"type", "dense"}, {"units", 2}}}},
                   {"loss", "mse"},
                   {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}};

weft::Dataset make_data() {
  weft::Dataset d{weft::Tensor(weft::Shape{8, 3}), weft::Tensor(weft::Shape{8, 2}), "d"};
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = 0.1f * float(i % 7) - 0.3f;
  for (std::size_t i = 0; i < d.y.size(); ++i) d.y[i] = 0.2f * float(i % 5);
  return d;
}

// The monitored metric is the learning rate of a per-epoch one-cycle schedule (total 10): it
// rises over epochs 1-3 (t = 0, 1, 2; the peak at 0.3·10 − 1 = 2) and falls after. With mode
// "max" and patience 2, epoch 3 is the best and epochs 4 and 5 do not improve: it stops after
// epoch 5 and puts epoch 3's weights back. Batch 4 of 8 samples: 2 steps per epoch.
weft::TrainOptions early_stopping_options() {
  weft::TrainOptions o;
  o.batch_size = 4;
  o.seed = 5;
  o.schedule = {{"type", "one_cycle"}, {"total", 10}};
  return o;
}

Json early_stopping_settings() {
  return weft::resolve_early_stopping({{"monitor", "lr"}, {"mode", "max"}, {"patience", 2}});
}

struct Outcome {
  std::int64_t stopped_epoch = 0, best_epoch = 0;
  std::vector<float> params, buffers;
};

Outcome outcome(weft::Trainer& trainer, const weft::EarlyStopping& early) {
  const weft::Model& m = trainer.model();
  return {early.stopped_epoch(), early.best_epoch(), {m.parameters().begin(), m.parameters().end()},
          {m.buffers().begin(), m.buffers().end()}};
}

// The straight run, with a checkpoint after every step. `early_first`: the order of the two
// callbacks (the command line puts the checkpoints first).
Outcome straight_run(const std::string& dir, bool early_first) {
  weft::Model model(early_stopping_spec);
  model.initialize(1);
  weft::Trainer trainer(model, early_stopping_options());
  weft::EarlyStopping early(early_stopping_settings());
  weft::io::CheckpointSettings settings;
  settings.dir = dir;
  settings.every_steps = 1;
  settings.early_stopping = &early;
  weft::io::CheckpointCallback checkpoints(settings);
  weft::FitOptions fit;
  fit.epochs = 10;
  fit.callbacks = early_first ? std::vector<weft::Callback*>{&early, &checkpoints}
                              : std::vector<weft::Callback*>{&checkpoints, &early};
  trainer.fit(make_data(), fit);
  return outcome(trainer, early);
}

// A new model, trainer and early stopping resumed from `path`, as `weft train --resume` does.
Outcome resumed_run(const std::string& path) {
  weft::io::Checkpoint c = weft::io::load_checkpoint(path);
  weft::Model model(early_stopping_spec);
  model.initialize(1);
  std::copy(c.model.parameters().begin(), c.model.parameters().end(), model.parameters().begin());
  std::copy(c.model.buffers().begin(), c.model.buffers().end(), model.buffers().begin());
  weft::Trainer trainer(model, early_stopping_options());
  trainer.restore({std::move(c.training.json), std::move(c.training.tensors)});
  weft::EarlyStopping early(early_stopping_settings());
  BOOST_REQUIRE(c.training.early_stopping);
  early.restore(*c.training.early_stopping);
  weft::FitOptions fit;
  fit.epochs = 10;
  fit.callbacks = {&early};
  trainer.fit(make_data(), fit);
  return outcome(trainer, early);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_run_resumed_from_any_checkpoint_stops_where_the_straight_run_did_with_its_weights) {
  for (bool early_first : {false, true}) {
    weft::testing::TempDir dir;
    const Outcome straight = straight_run(dir.path(), early_first);
    BOOST_REQUIRE_EQUAL(straight.stopped_epoch, 5);
    BOOST_REQUIRE_EQUAL(straight.best_epoch, 3);
    // Checkpoints after steps 1..10: mid-epoch (odd steps) and at epoch ends (even steps), before
    // the best epoch, at it, after it, and at the stop itself (step 10).
    weft::io::CheckpointSettings naming;
    naming.dir = dir.path();
    const weft::io::CheckpointCallback names(naming);
    for (std::int64_t step = 1; step <= 10; ++step) {
      BOOST_TEST_CONTEXT("early stopping " << (early_first ? "before" : "after") << " the checkpoints, resumed at step " << step) {
        const Outcome resumed = resumed_run(names.periodic_path(step));
        BOOST_CHECK_EQUAL(resumed.stopped_epoch, 5);
        BOOST_CHECK_EQUAL(resumed.best_epoch, 3);
        BOOST_CHECK(resumed.params == straight.params);
        BOOST_CHECK(resumed.buffers == straight.buffers);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_early_stopping_state_reads_back_exactly) {
  weft::testing::TempDir dir;
  weft::Model model(early_stopping_spec);
  model.initialize(2);
  weft::io::TrainingState state;
  for (const auto& t : model.parameter_table())
    for (const char* slot : {"exp_avg", "exp_avg_sq"}) state.tensors.emplace_back(t.name + "/" + slot, weft::Tensor(t.shape, 0.5f));
  state.json = {{"step", 3}, {"epoch", 1}, {"history", Json::array()}};
  weft::EarlyStoppingState es;
  es.json = {{"monitor", "val_loss"}, {"best", 0.1 + 0.2}, {"best_epoch", 4}, {"wait", 2}, {"epochs_seen", 6}};
  // Values that differ everywhere inside the tensors; the gaps between them (the flat layout
  // aligns each tensor) hold zeros, as in a model.
  auto fill = [](const std::vector<weft::NamedTensor>& table, std::size_t size, float first) {
    std::vector<float> flat(size, 0.0f);
    for (const auto& t : table)
      for (std::size_t i = 0; i < t.size(); ++i) flat[t.offset + i] = first += 0.001f;
    return flat;
  };
  es.best_parameters = fill(model.parameter_table(), model.parameters().size(), -0.25f);
  es.best_buffers = fill(model.buffer_table(), model.buffers().size(), 1.0f);
  state.early_stopping = es;
  weft::io::save_checkpoint(dir.file("c.h5"), model, state);

  const auto loaded = weft::io::load_checkpoint(dir.file("c.h5")).training.early_stopping;
  BOOST_REQUIRE(loaded);
  BOOST_CHECK_EQUAL(loaded->json, es.json);  // 0.1 + 0.2 is not 0.3: the double survives exactly
  BOOST_CHECK(loaded->best_parameters == es.best_parameters);
  BOOST_CHECK(loaded->best_buffers == es.best_buffers);

  // Without best weights (restore_best off, or no epoch yet) the group holds only the counters.
  state.early_stopping->best_parameters.clear();
  state.early_stopping->best_buffers.clear();
  weft::io::save_checkpoint(dir.file("d.h5"), model, state);
  const auto without = weft::io::load_checkpoint(dir.file("d.h5")).training.early_stopping;
  BOOST_REQUIRE(without);
  BOOST_CHECK(without->best_parameters.empty());
  BOOST_CHECK_EQUAL(without->json.at("wait"), 2);

  // A checkpoint of a run without early stopping has none.
  state.early_stopping.reset();
  weft::io::save_checkpoint(dir.file("e.h5"), model, state);
  BOOST_CHECK(!weft::io::load_checkpoint(dir.file("e.h5")).training.early_stopping);
}

BOOST_AUTO_TEST_CASE(restoring_an_early_stopping_state_that_does_not_fit_is_a_clear_error) {
  weft::EarlyStopping early(early_stopping_settings());
  weft::EarlyStoppingState other;
  other.json = {{"monitor", "val_loss"}, {"best", 0.5}, {"best_epoch", 1}, {"wait", 0}, {"epochs_seen", 1}};
  BOOST_CHECK_EQUAL(error_of([&] { early.restore(other); }),
                    "cannot restore the early-stopping state: it monitored \"val_loss\", this run monitors \"lr\"");
  other.json["monitor"] = "lr";
  other.json["wait"] = 3;  // epoch 1 was the best, 3 more without improvement: 4 epochs, not 1
  BOOST_CHECK_EQUAL(error_of([&] { early.restore(other); }),
                    "cannot restore the early-stopping state: best_epoch 1 and wait 3 do not fit in the 1 epochs seen");
  other.json.erase("wait");
  BOOST_CHECK(error_of([&] { early.restore(other); }).find("a field is missing or has the wrong type") != std::string::npos);
}
