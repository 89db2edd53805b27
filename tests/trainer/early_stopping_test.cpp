// Early stopping as a callback: stops after `patience` epochs without improvement and puts the
// best epoch's weights back.
#include <boost/test/unit_test.hpp>

#include "weft/callbacks.hpp"
#include "weft/trainer.hpp"
#include "weft/training_config.hpp"

using weft::Json;

namespace {

struct WeightsPerEpoch : weft::Callback {
  std::vector<std::vector<float>> weights;
  void on_epoch_end(weft::Trainer& t, const weft::EpochEvent&) override {
    weights.emplace_back(t.model().parameters().begin(), t.model().parameters().end());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(early_stopping_stops_after_patience_and_restores_the_best_weights) {
  // The monitored metric is the learning rate of a per-epoch one-cycle schedule (total 10): it
  // rises over epochs 1–3 (t = 0, 1, 2, the peak at 0.3·10 − 1 = 2) and falls after. With
  // mode "max" and patience 2, epoch 3 is the best, epochs 4 and 5 do not improve: stop after 5.
  weft::Model model({{"input", {3}}, {"layers", {{{"type", "dense"}, {"units", 2}}}}, {"loss", "mse"},
                     {"optimizer", {{"type", "sgd"}, {"lr", 0.05}}}});
  model.initialize(1);
  weft::Dataset d{weft::Tensor(weft::Shape{8, 3}), weft::Tensor(weft::Shape{8, 2}), "d"};
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = 0.1f * float(i % 7) - 0.3f;
  for (std::size_t i = 0; i < d.y.size(); ++i) d.y[i] = 0.2f * float(i % 5);
  weft::TrainOptions o;
  o.batch_size = 4;
  o.schedule = {{"type", "one_cycle"}, {"total", 10}};
  weft::Trainer trainer(model, o);
  WeightsPerEpoch recorder;
  weft::EarlyStopping early(weft::resolve_early_stopping({{"monitor", "lr"}, {"mode", "max"}, {"patience", 2}}));
  weft::FitOptions fit;
  fit.epochs = 10;
  fit.callbacks = {&recorder, &early};
  trainer.fit(d, fit);
  BOOST_CHECK(early.stopped());
  BOOST_CHECK_EQUAL(early.stopped_epoch(), 5);
  BOOST_CHECK_EQUAL(early.best_epoch(), 3);
  BOOST_CHECK_CLOSE(early.best(), 0.05, 1e-9);  // the peak is the optimizer's rate
  BOOST_REQUIRE_EQUAL(trainer.history().size(), 5u);
  BOOST_REQUIRE_EQUAL(recorder.weights.size(), 5u);
  const std::vector<float> now(model.parameters().begin(), model.parameters().end());
  BOOST_CHECK(now == recorder.weights[2]);   // epoch 3's weights are back
  BOOST_CHECK(now != recorder.weights[4]);   // and they differ from where training stopped
}

BOOST_AUTO_TEST_CASE(early_stopping_without_the_monitored_metric_is_a_clear_error) {
  weft::Model model({{"input", {1}}, {"layers", {{{"type", "dense"}, {"units", 1}}}}, {"loss", "mse"}, {"optimizer", "sgd"}});
  weft::Dataset d{weft::Tensor(weft::Shape{2, 1}, 1.0f), weft::Tensor(weft::Shape{2, 1}, 1.0f), "d"};
  weft::Trainer trainer(model, {});
  weft::EarlyStopping early(weft::resolve_early_stopping(Json::object()));
  weft::FitOptions fit;
  fit.callbacks = {&early};
  try {
    trainer.fit(d, fit);
    BOOST_FAIL("expected an error");
  } catch (const weft::Error& e) {
    BOOST_CHECK_MESSAGE(std::string(e.what()).find("'val_loss' is not among this epoch's metrics (epoch, loss, lr") != std::string::npos,
                        e.what());
  }
}
