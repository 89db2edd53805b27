// Shape, Tensor and views; the counter-based RNG.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>

#include "weft/rng.hpp"
#include "weft/tensor.hpp"

using weft::Shape;
using weft::Tensor;

BOOST_AUTO_TEST_CASE(shapes_count_and_print) {
  const Shape s{2, 3, 4};
  BOOST_CHECK_EQUAL(s.numel(), 24);
  BOOST_CHECK_EQUAL(s.str(), "(2, 3, 4)");
  BOOST_CHECK(s.without_batch() == (Shape{3, 4}));
  BOOST_CHECK(Shape{5}.with_batch(7) == (Shape{7, 5}));
  BOOST_CHECK_EQUAL(Shape{}.numel(), 1);
  BOOST_CHECK_THROW(Shape({1, 2, 3, 4, 5, 6, 7, 8, 9}), weft::ShapeError);
}

BOOST_AUTO_TEST_CASE(tensors_are_aligned_zeroed_and_sliced_without_copies) {
  Tensor t(Shape{4, 3});
  BOOST_CHECK_EQUAL(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u);
  for (std::size_t i = 0; i < t.size(); ++i) BOOST_CHECK_EQUAL(t[i], 0.0f);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = float(i);
  const auto rows = t.view().slice(1, 2);
  BOOST_CHECK(rows.shape() == (Shape{2, 3}));
  BOOST_CHECK_EQUAL(rows.data(), t.data() + 3);
  BOOST_CHECK_EQUAL(rows[0], 3.0f);
  BOOST_CHECK_THROW(t.view().reshaped(Shape{5}), weft::ShapeError);
  Tensor copy = t;
  copy[0] = 42;
  BOOST_CHECK_EQUAL(t[0], 0.0f);
}

BOOST_AUTO_TEST_CASE(counter_rng_is_a_pure_function_with_sane_moments) {
  const weft::CounterRng a(5), b(5), c(6);
  BOOST_CHECK_EQUAL(a.bits(17), b.bits(17));
  BOOST_CHECK_NE(a.bits(17), c.bits(17));
  BOOST_CHECK_NE(a.derive(1).bits(0), a.derive(2).bits(0));
  double sum = 0, sq = 0, nsum = 0, nsq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = a.uniform(i), z = a.normal(i);
    BOOST_REQUIRE(u >= 0 && u < 1);
    sum += u;
    sq += u * u;
    nsum += z;
    nsq += z * z;
  }
  BOOST_CHECK_SMALL(sum / n - 0.5, 0.005);
  BOOST_CHECK_SMALL(sq / n - 1.0 / 3, 0.005);
  BOOST_CHECK_SMALL(nsum / n, 0.01);
  BOOST_CHECK_SMALL(nsq / n - 1, 0.01);
}
