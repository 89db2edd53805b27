// orthogonal: rows (or columns) orthonormal times the gain, for dense and conv shapes.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "model_helpers.hpp"
#include "one_layer.hpp"

using weft::Json;
using weft::Shape;

namespace {

// Largest |G − gain²·I| over the Gram matrix of the smaller side of the (rows, cols) matrix w.
double orthogonality_error(std::span<const float> w, std::size_t rows, double gain) {
  const std::size_t cols = w.size() / rows;
  const bool by_rows = rows <= cols;
  const std::size_t count = by_rows ? rows : cols, length = by_rows ? cols : rows;
  auto at = [&](std::size_t v, std::size_t i) { return double(by_rows ? w[v * cols + i] : w[i * cols + v]); };
  double worst = 0;
  for (std::size_t a = 0; a < count; ++a)
    for (std::size_t b = 0; b < count; ++b) {
      double dot = 0;
      for (std::size_t i = 0; i < length; ++i) dot += at(a, i) * at(b, i);
      worst = std::max(worst, std::abs(dot - (a == b ? gain * gain : 0.0)));
    }
  return worst;
}

}  // namespace

BOOST_AUTO_TEST_CASE(orthogonal_weights_have_orthonormal_rows_or_columns) {
  // Wide (3 × 5): rows orthonormal. Tall (7 × 4): columns orthonormal. Square 6 × 6 with gain 2.
  weft::testing::OneLayer wide({{"type", "dense"}, {"units", 3}, {"init", "orthogonal"}}, Shape{5});
  BOOST_CHECK_SMALL(orthogonality_error(wide.param("weight"), 3, 1.0), 1e-5);
  weft::testing::OneLayer tall({{"type", "dense"}, {"units", 7}, {"init", "orthogonal"}}, Shape{4});
  BOOST_CHECK_SMALL(orthogonality_error(tall.param("weight"), 7, 1.0), 1e-5);
  weft::testing::OneLayer square({{"type", "dense"}, {"units", 6}, {"init", {{"type", "orthogonal"}, {"gain", 2.0}}}},
                                 Shape{6});
  BOOST_CHECK_SMALL(orthogonality_error(square.param("weight"), 6, 2.0), 1e-4);
  // A conv weight (4, 2, 3, 3) is a 4 × 18 matrix.
  weft::testing::OneLayer conv({{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"init", "orthogonal"}}, Shape{2, 5, 5});
  BOOST_CHECK_SMALL(orthogonality_error(conv.param("weight"), 4, 1.0), 1e-5);
  // Not a fixed pattern: entries spread over both signs.
  const auto w = tall.param("weight");
  BOOST_CHECK(*std::min_element(w.begin(), w.end()) < -0.1f && *std::max_element(w.begin(), w.end()) > 0.1f);
}

BOOST_AUTO_TEST_CASE(orthogonal_rejects_a_vector) {
  const std::string msg = weft::testing::error_of([] {
    weft::testing::OneLayer one({{"type", "dense"}, {"units", 3}, {"bias_init", "orthogonal"}}, Shape{2});
  });
  BOOST_CHECK_MESSAGE(msg.find("dense_0/bias") != std::string::npos && msg.find("rank 2") != std::string::npos, msg);
}
