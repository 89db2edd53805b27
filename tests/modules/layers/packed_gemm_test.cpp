// weft's own GEMM (modules/layers/packed_gemm.hpp) against its definition written out plainly:
// each C element one std::fma chain in ascending k from +0 or from C, compared bit for bit in
// every vector set this CPU has, over all four transpose cases and shapes that cut every tile,
// panel and block edge (8-row panels, 48-column panels, 128-row and 1536-column blocks, depth
// blocks of at most 256 with a tail that is not a multiple of 8), with row strides wider than the
// rows. The definition itself is checked against a double-precision product.
#include <boost/test/unit_test.hpp>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <cstring>
#include <vector>

#include "layers/packed_gemm.hpp"
#include "layers/vector_isa.hpp"
#include "weft/error.hpp"
#include "weft/rng.hpp"

namespace wb = weft::builtin;
using weft::Trans;

namespace {

struct GemmCase {
  Trans ta, tb;
  int m, n, k;
  int pad;  // extra floats per stored row of A, B and C
  float beta;
};

struct GemmOperands {
  std::vector<float> a, b, c;
  int lda, ldb, ldc;
};

GemmOperands operands_for(const GemmCase& g, std::uint64_t seed) {
  GemmOperands o;
  const int a_rows = g.ta == Trans::no ? g.m : g.k, a_cols = g.ta == Trans::no ? g.k : g.m;
  const int b_rows = g.tb == Trans::no ? g.k : g.n, b_cols = g.tb == Trans::no ? g.n : g.k;
  o.lda = a_cols + g.pad, o.ldb = b_cols + g.pad, o.ldc = g.n + g.pad;
  const weft::CounterRng rng(seed);
  const auto fill = [&](std::vector<float>& v, std::size_t count, std::uint64_t tag) {
    v.resize(count);
    for (std::size_t i = 0; i < count; ++i) v[i] = 2.0f * rng.derive(tag).uniform(i) - 1.0f;
  };
  fill(o.a, static_cast<std::size_t>(a_rows) * o.lda, 1);
  fill(o.b, static_cast<std::size_t>(b_rows) * o.ldb, 2);
  fill(o.c, static_cast<std::size_t>(g.m) * o.ldc, 3);
  if (g.beta == 0.0f)  // C must not be read: garbage there may not leak into the result
    for (int i = 0; i < g.m; ++i)
      for (int j = 0; j < g.n; ++j) o.c[static_cast<std::size_t>(i) * o.ldc + j] = std::numeric_limits<float>::quiet_NaN();
  return o;
}

float op_a(const GemmCase& g, const GemmOperands& o, int i, int p) {
  return g.ta == Trans::no ? o.a[static_cast<std::size_t>(i) * o.lda + p] : o.a[static_cast<std::size_t>(p) * o.lda + i];
}
float op_b(const GemmCase& g, const GemmOperands& o, int p, int j) {
  return g.tb == Trans::no ? o.b[static_cast<std::size_t>(p) * o.ldb + j] : o.b[static_cast<std::size_t>(j) * o.ldb + p];
}

// The definition: C (with its padding left as it was).
std::vector<float> defined_product(const GemmCase& g, const GemmOperands& o) {
  std::vector<float> c = o.c;
  for (int i = 0; i < g.m; ++i)
    for (int j = 0; j < g.n; ++j) {
      float& out = c[static_cast<std::size_t>(i) * o.ldc + j];
      float acc = g.beta == 0.0f ? 0.0f : out;
      for (int p = 0; p < g.k; ++p) acc = std::fma(op_a(g, o, i, p), op_b(g, o, p, j), acc);
      out = acc;
    }
  return c;
}

std::string describe(const GemmCase& g) {
  return std::string(g.ta == Trans::no ? "N" : "T") + (g.tb == Trans::no ? "N" : "T") + " m=" + std::to_string(g.m) +
         " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k) + " pad=" + std::to_string(g.pad) +
         " beta=" + std::to_string(static_cast<int>(g.beta));
}

std::vector<GemmCase> edge_cases() {
  // {m, n, k}: single elements, one short of and one past each panel and block edge, the
  // fashion models' shard shapes, and blocks in all three dimensions at once.
  const int shapes[][3] = {{1, 1, 1},    {7, 47, 5},    {8, 48, 8},     {9, 49, 9},    {17, 97, 257},
                           {64, 10, 256}, {64, 512, 96}, {33, 130, 520}, {130, 20, 33}, {3, 1600, 17},
                           {20, 5, 784}};
  std::vector<GemmCase> cases;
  for (const auto& s : shapes)
    for (Trans ta : {Trans::no, Trans::yes})
      for (Trans tb : {Trans::no, Trans::yes})
        for (float beta : {0.0f, 1.0f})
          cases.push_back({ta, tb, s[0], s[1], s[2], (s[0] + s[2]) % 3 == 0 ? 0 : 5, beta});
  return cases;
}

}  // namespace

BOOST_AUTO_TEST_CASE(packed_gemm_gives_the_defined_fma_chains_bit_for_bit_in_every_vector_set) {
  const wb::VectorIsa widest = wb::vector_isa();
  std::uint64_t seed = 0;
  for (const GemmCase& g : edge_cases()) {
    const GemmOperands o = operands_for(g, ++seed);
    const std::vector<float> expected = defined_product(g, o);
    std::vector<float> scratch(wb::packed_gemm_scratch(g.m, g.n, g.k));
    for (int isa = 0; isa <= static_cast<int>(widest); ++isa) {
      wb::limit_vector_isa(static_cast<wb::VectorIsa>(isa));
      std::vector<float> c = o.c;
      wb::packed_gemm(g.ta, g.tb, g.m, g.n, g.k, o.a.data(), o.lda, o.b.data(), o.ldb, g.beta, c.data(), o.ldc,
                      scratch.data());
      std::size_t wrong = 0, first = 0;
      for (std::size_t i = 0; i < c.size(); ++i)
        if (std::bit_cast<std::uint32_t>(c[i]) != std::bit_cast<std::uint32_t>(expected[i]) && wrong++ == 0) first = i;
      BOOST_TEST(wrong == 0u, describe(g) << " vector set " << isa << ": " << wrong << " elements differ, first at "
                                          << first << " (" << c[first] << " vs " << expected[first] << ")");
    }
  }
  wb::limit_vector_isa(widest);
}

// Blocks of rows against one op(B) (a dense layer's weight against several shards): each
// block's C is its defined chains, as one packed_gemm call per block gives, in every vector set,
// with blocks of other heights, an empty one and one past the 128-row block.
BOOST_AUTO_TEST_CASE(packed_gemm_rows_gives_each_block_its_defined_chains) {
  const wb::VectorIsa widest = wb::vector_isa();
  const int heights[] = {64, 0, 9, 130, 1};
  const int n = 97, k = 520;  // a 48-column panel and a depth block with tails
  std::uint64_t seed = 200;
  for (Trans ta : {Trans::no, Trans::yes})
    for (Trans tb : {Trans::no, Trans::yes})
      for (float beta : {0.0f, 1.0f}) {
        std::vector<GemmCase> cases;
        std::vector<GemmOperands> blocks;
        std::vector<std::vector<float>> expected;
        for (const int m : heights) {
          cases.push_back({ta, tb, m, n, k, 3, beta});
          blocks.push_back(operands_for(cases.back(), ++seed));
          blocks.back().b = blocks.front().b;  // one B for all (the same padding: the same layout)
          expected.push_back(defined_product(cases.back(), blocks.back()));
        }
        std::vector<float> scratch(wb::packed_gemm_scratch(130, n, k));
        for (int isa = 0; isa <= static_cast<int>(widest); ++isa) {
          wb::limit_vector_isa(static_cast<wb::VectorIsa>(isa));
          std::vector<std::vector<float>> c;
          std::vector<wb::GemmRows> rows;
          for (const GemmOperands& o : blocks) c.push_back(o.c);
          for (std::size_t i = 0; i < blocks.size(); ++i)
            rows.push_back({cases[i].m, blocks[i].a.data(), blocks[i].lda, c[i].data(), blocks[i].ldc});
          wb::packed_gemm_rows(ta, tb, rows, n, k, blocks.front().b.data(), blocks.front().ldb, beta, scratch.data());
          for (std::size_t i = 0; i < blocks.size(); ++i)
            BOOST_TEST(std::equal(c[i].begin(), c[i].end(), expected[i].begin(), expected[i].end(),
                                  [](float x, float y) { return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y); }),
                       describe(cases[i]) << ", block " << i << " of " << blocks.size() << ", vector set " << isa);
        }
      }
  wb::limit_vector_isa(widest);
}

// The definition is a matrix product: within a few float roundings per term of one in double.
BOOST_AUTO_TEST_CASE(the_defined_chains_are_the_matrix_product) {
  for (const GemmCase& g : {GemmCase{Trans::no, Trans::yes, 64, 40, 784, 3, 1.0f},
                            GemmCase{Trans::yes, Trans::no, 50, 30, 64, 0, 0.0f}}) {
    const GemmOperands o = operands_for(g, 99);
    std::vector<float> c = o.c, scratch(wb::packed_gemm_scratch(g.m, g.n, g.k));
    wb::packed_gemm(g.ta, g.tb, g.m, g.n, g.k, o.a.data(), o.lda, o.b.data(), o.ldb, g.beta, c.data(), o.ldc,
                    scratch.data());
    double worst = 0.0;
    for (int i = 0; i < g.m; ++i)
      for (int j = 0; j < g.n; ++j) {
        const std::size_t at = static_cast<std::size_t>(i) * o.ldc + j;
        double exact = g.beta == 0.0f ? 0.0 : o.c[at], magnitude = std::abs(exact);
        for (int p = 0; p < g.k; ++p) {
          const double term = static_cast<double>(op_a(g, o, i, p)) * op_b(g, o, p, j);
          exact += term, magnitude += std::abs(term);
        }
        worst = std::max(worst, std::abs(c[at] - exact) / magnitude);
      }
    BOOST_TEST(worst < g.k * 1.2e-7, describe(g) << ": relative error " << worst);
  }
}

namespace {

// `count` floats that end exactly where an inaccessible page begins: reading or writing one
// float past them faults.
class FloatsBeforeGuardPage {
 public:
  explicit FloatsBeforeGuardPage(std::size_t count) : count_(count) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    data_pages_ = (count * sizeof(float) + page - 1) / page * page;
    bytes_ = data_pages_ + page;
    base_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    BOOST_REQUIRE(base_ != MAP_FAILED);
    BOOST_REQUIRE(mprotect(static_cast<char*>(base_) + data_pages_, page, PROT_NONE) == 0);
  }
  ~FloatsBeforeGuardPage() { munmap(base_, bytes_); }
  FloatsBeforeGuardPage(const FloatsBeforeGuardPage&) = delete;
  FloatsBeforeGuardPage& operator=(const FloatsBeforeGuardPage&) = delete;
  float* data() { return reinterpret_cast<float*>(static_cast<char*>(base_) + data_pages_) - count_; }

 private:
  std::size_t count_, data_pages_ = 0, bytes_ = 0;
  void* base_ = nullptr;
};

}  // namespace

// A B that is already k-major is read where it lies, not packed, and so is C: the tiles' vector
// loads and stores on the last columns must stop at the matrix's last float (a fault otherwise).
BOOST_AUTO_TEST_CASE(packed_gemm_touches_no_float_past_an_unpacked_b_or_c) {
  const wb::VectorIsa widest = wb::vector_isa();
  std::uint64_t seed = 100;
  for (const int n : {1, 7, 9, 20, 47, 49, 63}) {
    const GemmCase g{Trans::no, Trans::no, 9, n, 13, 0, 1.0f};
    const GemmOperands o = operands_for(g, ++seed);
    const std::vector<float> expected = defined_product(g, o);
    FloatsBeforeGuardPage b(o.b.size()), c(o.c.size());
    std::memcpy(b.data(), o.b.data(), o.b.size() * sizeof(float));
    std::vector<float> scratch(wb::packed_gemm_scratch(g.m, g.n, g.k));
    for (int isa = 0; isa <= static_cast<int>(widest); ++isa) {
      wb::limit_vector_isa(static_cast<wb::VectorIsa>(isa));
      std::memcpy(c.data(), o.c.data(), o.c.size() * sizeof(float));
      wb::packed_gemm(g.ta, g.tb, g.m, g.n, g.k, o.a.data(), o.lda, b.data(), o.ldb, g.beta, c.data(), o.ldc,
                      scratch.data());
      BOOST_TEST(std::memcmp(c.data(), expected.data(), expected.size() * sizeof(float)) == 0,
                 describe(g) << " vector set " << isa);
    }
  }
  wb::limit_vector_isa(widest);
}

BOOST_AUTO_TEST_CASE(packed_gemm_refuses_a_beta_it_does_not_define) {
  float a = 1.0f, b = 1.0f, c = 1.0f;
  std::vector<float> scratch(wb::packed_gemm_scratch(1, 1, 1));
  BOOST_CHECK_EXCEPTION(wb::packed_gemm(Trans::no, Trans::no, 1, 1, 1, &a, 1, &b, 1, 0.5f, &c, 1, scratch.data()),
                        weft::Error,
                        [](const weft::Error& e) { return std::string(e.what()).find("beta") != std::string::npos; });
}
