// The progress display: a live redrawn line on a terminal, one plain line per epoch otherwise.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>

#include "weft/callbacks.hpp"
#include "weft/trainer.hpp"

namespace {

std::string run_with_progress(bool live) {
  weft::Model model({{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 3}}}}, {"loss", "cross_entropy"}, {"optimizer", "sgd"}});
  model.initialize(1);
  weft::Dataset d{weft::Tensor(weft::Shape{10, 2}, 0.5f), weft::Tensor(weft::Shape{10}, 1.0f), "d"};
  weft::TrainOptions o;
  o.batch_size = 3;
  weft::Trainer trainer(model, o);
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  {
    weft::ProgressDisplay progress(out, live);
    weft::FitOptions fit;
    fit.epochs = 3;
    fit.validation = &d;
    fit.callbacks = {&progress};
    trainer.fit(d, fit);
  }
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(plain_output_is_one_line_per_epoch) {
  const std::string text = run_with_progress(false);
  BOOST_CHECK_EQUAL(std::count(text.begin(), text.end(), '\n'), 3);
  BOOST_CHECK_EQUAL(text.find('\r'), std::string::npos);
  BOOST_CHECK_EQUAL(text.rfind("epoch 1/3  loss ", 0), 0u);
  BOOST_CHECK(text.find("\nepoch 3/3  loss ") != std::string::npos);
  BOOST_CHECK(text.find("val_loss") != std::string::npos);
  BOOST_CHECK(text.find("samples/s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(live_output_redraws_a_bar_with_eta_loss_and_speed) {
  const std::string text = run_with_progress(true);
  // The last step of every epoch is always drawn: "4/4" (10 samples in batches of 3).
  BOOST_CHECK(text.find("\r\033[Kepoch 2/3 [========================] 4/4  ETA 0:00  loss ") != std::string::npos);
  BOOST_CHECK(text.find("samples/s") != std::string::npos);
  BOOST_CHECK_EQUAL(std::count(text.begin(), text.end(), '\n'), 3);  // the summaries end the lines
}
