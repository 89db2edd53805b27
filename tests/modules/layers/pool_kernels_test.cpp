// The whole-plane 2 × 2 max-pooling kernels (modules/layers/pool_kernels.hpp) with relu fused in,
// as the fused convolution + pooling layer calls them: against relu applied to every element
// first and the pooling rule written out plainly (first largest in slot order, else the first
// NaN), bit for bit, in every vector instruction set this CPU has. Values come from
// {−2, −1, −0, +0, 1, 2} so windows are full of ties and of zeros of both signs (relu(−1) is +0,
// relu(−0) is −0: a window's sign of zero depends on which slot the rule keeps), and a few NaN.
// The backward pass must write exactly the windows' four slots and nothing around them.
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "layers/pool_kernels.hpp"
#include "layers/vector_isa.hpp"
#include "weft/rng.hpp"

namespace wb = weft::builtin;

namespace {

float relu_of(float v) { return v < 0.0f ? 0.0f : v; }

// The plane index each window's gradient belongs to and its pooled value, over relu(plane).
struct PlainPool {
  std::vector<std::int64_t> argmax;
  std::vector<float> y;
};
PlainPool plain_relu_pool(const std::vector<float>& plane, std::int64_t grid_width, std::int64_t height,
                          std::int64_t width) {
  PlainPool p;
  for (std::int64_t oy = 0; oy < height; ++oy)
    for (std::int64_t ox = 0; ox < width; ++ox) {
      const std::int64_t top = 2 * oy * grid_width + 2 * ox;
      const std::int64_t slots[4] = {top, top + 1, top + grid_width, top + grid_width + 1};
      std::int64_t pick = -1;
      for (std::int64_t s : slots)
        if (pick < 0 && std::isnan(plane[static_cast<std::size_t>(s)])) pick = s;
      if (pick < 0) {
        pick = slots[0];
        for (std::int64_t s : slots)
          if (relu_of(plane[static_cast<std::size_t>(s)]) > relu_of(plane[static_cast<std::size_t>(pick)])) pick = s;
      }
      p.argmax.push_back(pick);
      p.y.push_back(relu_of(plane[static_cast<std::size_t>(pick)]));
    }
  return p;
}

bool same_float_bits(float a, float b) {
  return std::isnan(a) ? std::isnan(b) : std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

}  // namespace

BOOST_AUTO_TEST_CASE(fused_relu_pooling_planes_match_relu_then_pool_bit_for_bit) {
  const wb::VectorIsa widest = wb::vector_isa();
  const float values[6] = {-2.0f, -1.0f, -0.0f, 0.0f, 1.0f, 2.0f};
  const weft::CounterRng rng(5);
  std::uint64_t draw = 0;
  for (int isa = 0; isa <= static_cast<int>(widest); ++isa)
    for (const std::int64_t width : {1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 26}) {
      wb::limit_vector_isa(static_cast<wb::VectorIsa>(isa));
      const std::int64_t height = 5, grid_width = 2 * width + 3;  // columns past the windows, as in a conv grid
      const std::int64_t grid_rows = 2 * height + 1;
      for (const bool with_nan : {false, true}) {
        // Slack after the plane: the kernels may read (never write) a little past a short row.
        std::vector<float> plane(static_cast<std::size_t>(grid_rows * grid_width + 32));
        for (float& v : plane) v = values[rng.below(draw++, 6)];
        if (with_nan) plane[static_cast<std::size_t>(2 * grid_width + 1)] = std::numeric_limits<float>::quiet_NaN();
        const PlainPool want = plain_relu_pool(plane, grid_width, height, width);
        const std::size_t windows = static_cast<std::size_t>(height * width);
        std::vector<std::int32_t> index(windows);
        std::vector<float> y(windows);
        wb::max_pool_2x2_plane(plane.data(), grid_width, height, width, true, index.data(), y.data());
        for (std::size_t w = 0; w < windows; ++w)
          BOOST_CHECK_MESSAGE(same_float_bits(y[w], want.y[w]), "isa " << isa << ", width " << width << ", nan " << with_nan
                                                                       << ": window " << w << " pooled " << y[w]
                                                                       << ", relu then pool gives " << want.y[w]);

        // Backward with relu's mask from y: the gradient (0 + dy where y > 0, else +0) at the
        // plain argmax, +0 at the other three slots; a sentinel everywhere else stays.
        std::vector<float> dy(windows);
        for (std::size_t w = 0; w < windows; ++w) dy[w] = (w % 3 == 0 ? -0.5f : 0.25f) * static_cast<float>(w + 1);
        const float sentinel = 7.0f;
        std::vector<float> dx(plane.size(), sentinel), want_dx(plane.size(), sentinel);
        for (std::size_t w = 0; w < windows; ++w) {
          const std::int64_t oy = static_cast<std::int64_t>(w) / width, ox = static_cast<std::int64_t>(w) % width;
          const std::int64_t top = 2 * oy * grid_width + 2 * ox;
          for (std::int64_t s : {top, top + 1, top + grid_width, top + grid_width + 1}) want_dx[static_cast<std::size_t>(s)] = 0.0f;
          want_dx[static_cast<std::size_t>(want.argmax[w])] = 0.0f + dy[w] * (y[w] > 0.0f ? 1.0f : 0.0f);
        }
        wb::route_2x2_plane(dy.data(), y.data(), index.data(), grid_width, height, width, dx.data());
        for (std::size_t i = 0; i < dx.size(); ++i)
          BOOST_CHECK_MESSAGE(same_float_bits(dx[i], want_dx[i]), "isa " << isa << ", width " << width << ", nan " << with_nan
                                                                          << ": dx[" << i << "] is " << dx[i] << ", expected "
                                                                          << want_dx[i]);
      }
    }
  wb::limit_vector_isa(widest);
}
