// The shifted-window products (modules/layers/conv/window_kernels.hpp) in every instruction set
// this CPU has: each against a double-precision sum computed here, and the vector versions
// against each other bit for bit (each element is the same FMA chain, whatever the tile shape).
// Sizes cover whole and partial tiles of both vector versions: rows not a multiple of 8 (the
// AVX-512 forward tile), filters not a multiple of 32 (its gradient tile), spans not a multiple
// of 16, 24 or 48, and weight-gradient positions in runs with gaps (the gaps' output gradient is
// NaN, so reading one would show).
//
// Then the weight gradient along positions (modules/layers/conv/lane_gradient.hpp): each lane
// against the header's definition summed in double precision, every version against the others
// bit for bit (the same fused multiply-adds in the same order, the portable one included), and
// the bias lanes. Sizes cover whole and partial row tiles of both vector versions (rows 1, 4, 9,
// 12, 13 → 7 + 6), odd filter counts (a last AVX-512 tile of one filter) and lengths that are not
// a multiple of 16. The gradient's padding past `length` and the input past the last row read
// hold NaN: reading either would show.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "layers/conv/lane_gradient.hpp"
#include "layers/conv/window_kernels.hpp"
#include "layers/vector_isa.hpp"

namespace wb = weft::builtin;

namespace {

std::vector<float> uniform(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& e : v) e = u(gen);
  return v;
}

// The instruction sets to compare: all this CPU can run, narrowest first.
std::vector<wb::VectorIsa> available_isas() {
  std::vector<wb::VectorIsa> out{wb::VectorIsa::portable};
  const wb::VectorIsa widest = wb::vector_isa();
  if (widest >= wb::VectorIsa::avx2) out.push_back(wb::VectorIsa::avx2);
  if (widest >= wb::VectorIsa::avx512) out.push_back(wb::VectorIsa::avx512);
  if (widest < wb::VectorIsa::avx512) BOOST_TEST_MESSAGE("this CPU has no AVX-512: its version is not compared");
  return out;
}

// Restores the widest set when a case ends, even when it fails.
struct IsaGuard {
  wb::VectorIsa widest = wb::vector_isa();
  ~IsaGuard() { wb::limit_vector_isa(widest); }
};

struct Forward {
  std::int64_t rows, depth, span;
};

// Runs window_product under `isa` on offsets that shift by a row of 17 and a channel of 300.
std::vector<float> run_forward(const Forward& c, wb::VectorIsa isa, std::vector<double>* reference) {
  std::vector<std::int64_t> offsets;
  for (std::int64_t k = 0; k < c.depth; ++k) offsets.push_back(k / 9 * 300 + k % 9 / 3 * 17 + k % 3);
  const std::int64_t ld = (c.span + wb::window_cols - 1) / wb::window_cols * wb::window_cols;
  const std::vector<float> x = uniform(static_cast<std::size_t>(offsets.back() + ld + wb::window_cols), 1);
  const std::vector<float> panels = uniform(static_cast<std::size_t>(c.rows * c.depth), 2);
  const std::vector<float> init = uniform(static_cast<std::size_t>(c.rows), 3);
  std::vector<float> out(static_cast<std::size_t>(c.rows * ld), NAN);
  wb::limit_vector_isa(isa);
  wb::window_product(panels.data(), c.rows, offsets.data(), c.depth, x.data(), init.data(), c.span, out.data(), ld);
  std::vector<float> kept;
  for (std::int64_t r = 0; r < c.rows; ++r)
    for (std::int64_t q = 0; q < c.span; ++q) {
      kept.push_back(out[static_cast<std::size_t>(r * ld + q)]);
      if (!reference) continue;
      double sum = init[static_cast<std::size_t>(r)];
      for (std::int64_t k = 0; k < c.depth; ++k)
        sum += double(panels[static_cast<std::size_t>((r / 4 * c.depth + k) * 4 + r % 4)]) *
               x[static_cast<std::size_t>(offsets[static_cast<std::size_t>(k)] + q)];
      reference->push_back(sum);
    }
  return kept;
}

// `runs` runs of `length` positions, one every `stride` (stride == length: one unbroken run).
struct Gradient {
  std::int64_t rows, filters, runs, length, stride;
};

// The output gradient is NaN at the positions between runs: reading one would show.
std::vector<float> run_gradient(const Gradient& c, wb::VectorIsa isa, std::vector<double>* reference) {
  std::vector<std::int64_t> offsets, starts;
  for (std::int64_t r = 0; r < c.rows; ++r) offsets.push_back(r * 7 % 50);
  for (std::int64_t i = 0; i < c.runs; ++i) starts.push_back(i * c.stride);
  const std::int64_t span = starts.back() + c.length, positions = (span + 7) / 8 * 8;
  const std::vector<float> x = uniform(static_cast<std::size_t>(50 + span), 4);
  std::vector<float> d = uniform(static_cast<std::size_t>(c.filters * positions), 5);
  const auto in_run = [&](std::int64_t q) { return q < span && q % c.stride < c.length; };
  for (std::int64_t q = 0; q < positions; ++q)
    if (!in_run(q))
      for (std::int64_t f = 0; f < c.filters; ++f) d[static_cast<std::size_t>((f / 16 * positions + q) * 16 + f % 16)] = NAN;
  std::vector<float> acc = uniform(static_cast<std::size_t>(c.rows * c.filters), 6);
  const std::vector<float> start = acc;
  wb::limit_vector_isa(isa);
  wb::gradient_product(offsets.data(), c.rows, x.data(), d.data(), positions, c.filters,
                       wb::PositionRuns{starts.data(), c.runs, c.length}, acc.data(), c.filters);
  if (reference)
    for (std::int64_t r = 0; r < c.rows; ++r)
      for (std::int64_t f = 0; f < c.filters; ++f) {
        double sum = start[static_cast<std::size_t>(r * c.filters + f)];
        for (std::int64_t q = 0; q < span; ++q)
          if (in_run(q))
            sum += double(x[static_cast<std::size_t>(offsets[static_cast<std::size_t>(r)] + q)]) *
                   d[static_cast<std::size_t>((f / 16 * positions + q) * 16 + f % 16)];
        reference->push_back(sum);
      }
  return acc;
}

template <class Case, class Run>
void compare_isas(const Case& c, Run run) {
  IsaGuard guard;
  std::vector<double> reference;
  std::vector<float> vector_result;
  for (wb::VectorIsa isa : available_isas()) {
    const std::vector<float> got = run(c, isa, reference.empty() ? &reference : nullptr);
    BOOST_TEST_REQUIRE(got.size() == reference.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      BOOST_TEST_REQUIRE(std::abs(got[i] - reference[i]) <= 1e-5 * (1 + std::abs(reference[i])),
                         "isa " << int(isa) << " element " << i << ": " << got[i] << " vs " << reference[i]);
    if (isa == wb::VectorIsa::portable) continue;
    if (vector_result.empty()) vector_result = got;
    else
      for (std::size_t i = 0; i < got.size(); ++i)
        BOOST_TEST_REQUIRE(got[i] == vector_result[i], "isa " << int(isa) << " element " << i << " differs in bits");
  }
}

constexpr std::int64_t L = wb::gradient_lanes;

struct Case {
  std::int64_t rows, filters, length;
};

struct Result {
  std::vector<float> lanes, bias_lanes;
};

// Runs lane_gradient_product under `isa` from random starting lanes; with `reference`, also
// the expected lanes (weights first, then bias) in double precision.
Result run(const Case& c, wb::VectorIsa isa, bool with_bias, std::vector<double>* reference) {
  std::vector<std::int64_t> offsets;
  for (std::int64_t r = 0; r < c.rows; ++r) offsets.push_back(r * 7 % 50);
  const std::int64_t positions = (c.length + 7) / 8 * 8 + 8;  // at least 8 padding positions
  std::vector<float> x = uniform(static_cast<std::size_t>(50 + c.length), 1);
  x.resize(x.size() + L, NAN);
  std::vector<float> d = uniform(static_cast<std::size_t>(c.filters * positions), 2);
  for (std::int64_t f = 0; f < c.filters; ++f)
    for (std::int64_t q = c.length; q < positions; ++q) d[static_cast<std::size_t>(f * positions + q)] = NAN;
  Result out{uniform(static_cast<std::size_t>(c.rows * c.filters * L), 3), uniform(static_cast<std::size_t>(c.filters * L), 4)};
  const Result start = out;
  wb::limit_vector_isa(isa);
  wb::lane_gradient_product(offsets.data(), c.rows, x.data(), d.data(), positions, c.filters, c.length,
                            out.lanes.data(), with_bias ? out.bias_lanes.data() : nullptr);
  if (reference) {
    const auto at = [](const std::vector<float>& v, std::int64_t i) { return double(v[static_cast<std::size_t>(i)]); };
    for (std::int64_t f = 0; f < c.filters; ++f)
      for (std::int64_t r = 0; r < c.rows; ++r)
        for (std::int64_t j = 0; j < L; ++j) {
          double sum = at(start.lanes, (f * c.rows + r) * L + j);
          for (std::int64_t q = j; q < c.length; q += L)
            sum += at(x, offsets[static_cast<std::size_t>(r)] + q) * at(d, f * positions + q);
          reference->push_back(sum);
        }
    for (std::int64_t f = 0; f < c.filters; ++f)
      for (std::int64_t j = 0; j < L; ++j) {
        double sum = at(start.bias_lanes, f * L + j);
        if (with_bias)
          for (std::int64_t q = j; q < c.length; q += L) sum += at(d, f * positions + q);
        reference->push_back(sum);
      }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(window_kernels)

BOOST_AUTO_TEST_CASE(forward_product_matches_the_sum_in_every_isa) {
  for (const Forward& c : {Forward{4, 9, 1}, Forward{8, 9, 48}, Forward{12, 27, 50}, Forward{16, 18, 97},
                           Forward{20, 36, 141}, Forward{64, 9, 726}, Forward{8, 27, 22}, Forward{12, 9, 80}})
    compare_isas(c, run_forward);
}

BOOST_AUTO_TEST_CASE(gradient_product_matches_the_sum_in_every_isa) {
  // Unbroken runs, then fashion_cnn's second layer (11 rows of 11 in a 13-wide grid) and its
  // pooled box (10 of 10), then runs of one.
  for (const Gradient& c : {Gradient{12, 16, 1, 1, 1}, Gradient{12, 32, 1, 33, 33}, Gradient{24, 48, 1, 141, 141},
                            Gradient{36, 64, 1, 70, 70}, Gradient{12, 80, 1, 9, 9}, Gradient{24, 64, 11, 11, 13},
                            Gradient{12, 48, 10, 10, 13}, Gradient{12, 16, 5, 1, 3}})
    compare_isas(c, run_gradient);
}

BOOST_AUTO_TEST_CASE(isa_can_be_lowered_but_not_raised) {
  IsaGuard guard;
  wb::limit_vector_isa(wb::VectorIsa::portable);
  BOOST_TEST(int(wb::vector_isa()) == int(wb::VectorIsa::portable));
  wb::limit_vector_isa(wb::VectorIsa::avx512);
  BOOST_TEST(int(wb::vector_isa()) == int(guard.widest));
}

BOOST_AUTO_TEST_CASE(lanes_match_the_sum_and_every_isa_gives_the_same_bits) {
  IsaGuard guard;
  const std::vector<wb::VectorIsa> isas = available_isas();
  for (const Case& c : {Case{1, 1, 5}, Case{4, 3, 16}, Case{9, 32, 726}, Case{12, 5, 33}, Case{13, 2, 40},
                        Case{7, 18, 141}, Case{3, 1, 17}})
    for (const bool with_bias : {true, false}) {
      BOOST_TEST_CONTEXT("rows " << c.rows << ", filters " << c.filters << ", length " << c.length << ", bias "
                                 << with_bias) {
        std::vector<double> reference;
        Result first;
        for (wb::VectorIsa isa : isas) {
          const Result got = run(c, isa, with_bias, reference.empty() ? &reference : nullptr);
          std::vector<float> all = got.lanes;
          all.insert(all.end(), got.bias_lanes.begin(), got.bias_lanes.end());
          BOOST_TEST_REQUIRE(all.size() == reference.size());
          for (std::size_t i = 0; i < all.size(); ++i)
            BOOST_TEST_REQUIRE(std::abs(all[i] - reference[i]) <= 1e-5 * (1 + std::abs(reference[i])),
                               "isa " << int(isa) << " lane " << i << ": " << all[i] << " vs " << reference[i]);
          if (isa == isas.front()) {
            first = got;
            continue;
          }
          for (std::size_t i = 0; i < got.lanes.size(); ++i)
            BOOST_TEST_REQUIRE(got.lanes[i] == first.lanes[i], "isa " << int(isa) << " lane " << i << " differs in bits");
          for (std::size_t i = 0; i < got.bias_lanes.size(); ++i)
            BOOST_TEST_REQUIRE(got.bias_lanes[i] == first.bias_lanes[i],
                               "isa " << int(isa) << " bias lane " << i << " differs in bits");
        }
      }
    }
}

BOOST_AUTO_TEST_CASE(lane_sum_adds_the_halves_in_order) {
  // Lanes 2^i: every partial sum exact, so the total is known; then values whose sum depends on
  // the order: 1e8 in lane 0, 1 in lane 8 and −1e8 in lane 1. Halves first: (1e8 + 1) rounds to
  // 1e8, and (1e8 − 1e8) = 0 follows, where a left-to-right sum would give 1.
  float lanes[L];
  for (std::int64_t j = 0; j < L; ++j) lanes[j] = std::ldexp(1.0f, static_cast<int>(j));
  BOOST_TEST(wb::lane_sum(lanes) == 65535.0f);
  for (float& v : lanes) v = 0;
  lanes[0] = 1e8f, lanes[8] = 1.0f, lanes[1] = -1e8f;
  BOOST_TEST(wb::lane_sum(lanes) == 0.0f);
}

BOOST_AUTO_TEST_SUITE_END()
