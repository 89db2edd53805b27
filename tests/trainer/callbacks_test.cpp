// The callback interface: hooks run in the documented order and see the documented positions.
#include <boost/test/unit_test.hpp>

#include "weft/trainer.hpp"

using weft::Json;

namespace {

struct Recorder : weft::Callback {
  std::vector<std::string> calls;
  void on_fit_begin(weft::Trainer&) override { calls.push_back("fit_begin"); }
  void on_epoch_begin(weft::Trainer&, const weft::EpochEvent& e) override { calls.push_back("epoch_begin " + std::to_string(e.epoch)); }
  void on_step_begin(weft::Trainer&, const weft::StepEvent& e) override {
    calls.push_back("step_begin " + std::to_string(e.step) + " batch " + std::to_string(e.batch) + "/" + std::to_string(e.batches));
  }
  void on_step_end(weft::Trainer&, const weft::StepEvent& e) override {
    calls.push_back("step_end " + std::to_string(e.step) + " batch " + std::to_string(e.batch) + " samples " + std::to_string(e.samples));
  }
  void on_epoch_end(weft::Trainer& t, const weft::EpochEvent& e) override {
    calls.push_back("epoch_end " + std::to_string(e.epoch) + " history " + std::to_string(t.history().size()) +
                    (e.metrics->get("val_loss") ? " val" : ""));
  }
  void on_fit_end(weft::Trainer&) override { calls.push_back("fit_end"); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(callbacks_run_in_order_with_accumulated_steps) {
  weft::Model model({{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 1}}}}, {"loss", "mse"}, {"optimizer", "sgd"}});
  weft::Dataset d{weft::Tensor(weft::Shape{5, 2}, 0.5f), weft::Tensor(weft::Shape{5, 1}, 1.0f), "five"};
  weft::TrainOptions o;
  o.batch_size = 2;  // 3 mini-batches (2, 2, 1); accumulate 2 → steps of 4 and 1 samples
  o.accumulate = 2;
  weft::Trainer trainer(model, o);
  Recorder r;
  weft::FitOptions fit;
  fit.epochs = 2;
  fit.validation = &d;
  fit.callbacks = {&r};
  trainer.fit(d, fit);
  const std::vector<std::string> expected = {
      "fit_begin",
      "epoch_begin 1", "step_begin 0 batch 0/3", "step_end 1 batch 2 samples 4", "step_begin 1 batch 2/3",
      "step_end 2 batch 3 samples 1", "epoch_end 1 history 1 val",
      "epoch_begin 2", "step_begin 2 batch 0/3", "step_end 3 batch 2 samples 4", "step_begin 3 batch 2/3",
      "step_end 4 batch 3 samples 1", "epoch_end 2 history 2 val",
      "fit_end"};
  BOOST_CHECK_EQUAL_COLLECTIONS(r.calls.begin(), r.calls.end(), expected.begin(), expected.end());
}
