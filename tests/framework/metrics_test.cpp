// Evaluation metrics worked out by hand: accuracy, top-k accuracy, the confusion matrix, MSE, MAE.
#include <boost/test/unit_test.hpp>

#include "weft/metrics.hpp"

BOOST_AUTO_TEST_CASE(classification_metrics_by_hand) {
  // 4 samples, 3 classes, top-2.
  //   scores            label  arg-max  rank of the label
  //   (0.1, 0.7, 0.2)     1       1        1st
  //   (0.5, 0.3, 0.2)     1       0        2nd
  //   (0.2, 0.3, 0.5)     0       2        3rd
  //   (0.6, 0.1, 0.3)     2       0        2nd
  // accuracy 1/4; top-2 accuracy 3/4; confusion [true][predicted]: (1,1) (1,0) (0,2) (2,0)
  const float scores[] = {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.3f, 0.5f, 0.6f, 0.1f, 0.3f};
  const float labels[] = {1, 1, 0, 2};
  weft::MetricAccumulator m(3, 2);
  m.add(weft::ConstView(scores, weft::Shape{2, 3}), weft::ConstView(labels, weft::Shape{2}));  // in two batches
  m.add(weft::ConstView(scores + 6, weft::Shape{2, 3}), weft::ConstView(labels + 2, weft::Shape{2}));
  BOOST_CHECK_EQUAL(m.samples(), 4);
  BOOST_CHECK_CLOSE(m.accuracy(), 0.25, 1e-12);
  BOOST_CHECK_CLOSE(m.top_k_accuracy(), 0.75, 1e-12);
  const std::vector<std::vector<std::int64_t>> confusion = {{0, 0, 1}, {1, 1, 0}, {1, 0, 0}};
  BOOST_CHECK(m.confusion() == confusion);
  // One-hot targets give the same answers.
  const float one_hot[] = {0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1};
  weft::MetricAccumulator h(3, 2);
  h.add(weft::ConstView(scores, weft::Shape{4, 3}), weft::ConstView(one_hot, weft::Shape{4, 3}));
  BOOST_CHECK(h.confusion() == confusion);
  BOOST_CHECK_CLOSE(h.top_k_accuracy(), 0.75, 1e-12);
}

BOOST_AUTO_TEST_CASE(regression_metrics_by_hand) {
  // errors 1, −2, 0.5, 0: MSE (1 + 4 + 0.25 + 0)/4 = 1.3125, MAE (1 + 2 + 0.5 + 0)/4 = 0.875
  const float out[] = {2, 0, 1.5f, 3};
  const float target[] = {1, 2, 1, 3};
  weft::MetricAccumulator m(0);
  m.add(weft::ConstView(out, weft::Shape{2, 2}), weft::ConstView(target, weft::Shape{2, 2}));
  BOOST_CHECK_CLOSE(m.mse(), 1.3125, 1e-12);
  BOOST_CHECK_CLOSE(m.mae(), 0.875, 1e-12);
}

BOOST_AUTO_TEST_CASE(metrics_keep_their_order_through_json) {
  weft::Metrics m;
  m.set("epoch", 1);
  m.set("val_loss", 0.5);
  m.set("loss", 0.25);
  m.set("val_loss", 0.4);  // updated in place
  const auto back = weft::Metrics::from_json(m.to_json());
  BOOST_CHECK(back.names() == (std::vector<std::string>{"epoch", "val_loss", "loss"}));
  BOOST_CHECK_EQUAL(*back.get("val_loss"), 0.4);
  BOOST_CHECK(!back.get("accuracy"));
}
