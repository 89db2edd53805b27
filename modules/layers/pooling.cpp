// Pooling over N·C·spatial inputs, written once for every number of spatial axes:
//   max_pool1d/2d/3d, max_pool ("dims": 1..4) — the largest value of each window;
//   avg_pool1d/2d/3d, avg_pool ("dims": 1..4) — the window mean; with "count_include_pad" (true,
//     PyTorch's default) padding counts as zeros in the divisor, otherwise only real inputs count;
//   global_max_pool, global_avg_pool — over all spatial positions of each channel: (C, ...) → (C).
// kernel, stride (default: the kernel), padding (at most half the kernel, as in PyTorch),
// ceil_mode (PyTorch's: the output extent rounds up, but the last window must start inside the
// input or the left padding; with count_include_pad the divisor counts the padding but not what
// a ceil-mode window reaches beyond it) and, for max pooling, dilation (window slots dilation
// apart). A dilated max window can lie wholly in padding: its output is −∞ and it passes no
// gradient, as in PyTorch.
//
// Every channel of every sample has the same windows, so infer() tabulates once which input
// element each window slot reads (-1 for padding). Max pooling's forward keeps the argmax of
// each window in the shard's workspace (layers hold no batch state), and backward scatters dy
// through those indices instead of searching every window again.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "layers/conv/geometry.hpp"
#include "layers/pool_kernels.hpp"
#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class Pool final : public Layer {
 public:
  enum class Kind { max, average };
  Pool(const Config& c, Kind kind, std::string type, std::size_t fixed_dims)
      : kind_(kind),
        type_(std::move(type)),
        settings_(read_window_settings(c, read_dims(c, fixed_dims, max_spatial_dims), false, true)),
        count_include_pad_(kind == Kind::average && c.boolean("count_include_pad")) {
    for (std::size_t d = 0; d < settings_.dims; ++d)
      if (2 * settings_.padding[d] > settings_.kernel[d])
        c.fail("padding", "at most half the kernel " + extents_str(settings_.kernel, settings_.dims) + " on every axis");
  }

  Shape infer(const Shape& input) override {
    g_ = slide(settings_, input, type_);
    if (g_.in_count() > std::numeric_limits<std::int32_t>::max())
      throw ShapeError(type_ + " supports at most 2^31 - 1 spatial positions per channel, got " + std::to_string(g_.in_count()));
    channels_ = input[0];
    tabulate_windows();
    return channels_and(channels_, g_.out, g_.dims);
  }

  void forward(const ForwardArgs& a) const override {
    const std::int64_t planes = a.x.shape()[0] * channels_, in = g_.in_count(), out = g_.out_count();
    std::int32_t* argmax_of = kind_ == Kind::max ? argmax_slot(a.ws, planes * out) : nullptr;
    for (std::int64_t p = 0; p < planes; ++p) {
      const float* x = a.x.data() + p * in;
      float* y = a.y.data() + p * out;
      if (kind_ == Kind::average) {
        for (std::int64_t q = 0; q < out; ++q) y[q] = average(x, q);
        continue;
      }
      std::int32_t* index = argmax_of + p * out;
      if (two_by_two_) {
        max_of_2x2(x, index, y);
        continue;
      }
      if (full_windows_) {
        argmax_of_full_windows(x, index);
      } else {
        for (std::int64_t q = 0; q < out; ++q) index[q] = argmax(x, q);
      }
      for (std::int64_t q = 0; q < out; ++q) {
        if (index[q] < 0) {  // a dilated window wholly in padding
          y[q] = -std::numeric_limits<float>::infinity();
          continue;
        }
        const float v = x[index[q]];
        y[q] = std::isnan(v) ? std::numeric_limits<float>::quiet_NaN() : v;  // one NaN for all, as ever
      }
    }
  }

  // Needs the forward pass of the same shard just before (the executor's order).
  // Max routes dy through the argmax forward left in the workspace; average through fixed windows.
  BackwardNeeds backward_needs() const override { return {.inputs = false, .output = false}; }

  void backward(const BackwardArgs& a) const override {
    if (a.dx.empty()) return;
    const std::int64_t planes = a.x.shape()[0] * channels_, in = g_.in_count(), out = g_.out_count();
    const std::int32_t* argmax_of = kind_ == Kind::max ? argmax_slot(a.ws, planes * out) : nullptr;
    if (two_by_two_) {
      for (std::int64_t p = 0; p < planes; ++p) route_2x2(a.dy.data() + p * out, argmax_of + p * out, a.dx.data() + p * in);
      return;
    }
    std::fill_n(a.dx.data(), a.dx.size(), 0.0f);
    for (std::int64_t p = 0; p < planes; ++p) {
      const float* dy = a.dy.data() + p * out;
      float* dx = a.dx.data() + p * in;
      if (kind_ == Kind::max) {
        const std::int32_t* index = argmax_of + p * out;
        for (std::int64_t q = 0; q < out; ++q)
          if (index[q] >= 0) dx[index[q]] += dy[q];
        continue;
      }
      for (std::int64_t q = 0; q < out; ++q) {
        const float share = dy[q] / divisor_[static_cast<std::size_t>(q)];
        const std::int32_t* w = window(q);
        for (std::int64_t j = 0; j < kernel_count_; ++j)
          if (w[j] >= 0) dx[w[j]] += share;
      }
    }
  }

 private:
  const std::int32_t* window(std::int64_t q) const { return windows_.data() + q * kernel_count_; }

  // Max pooling's per-shard scratch: the input index (within its plane) of every output.
  static std::int32_t* argmax_slot(Workspace& ws, std::int64_t outputs) {
    return ws.ints(0, static_cast<std::size_t>(outputs)).data();
  }

  // Where window q has its largest value: the first largest element, or the first NaN (a NaN
  // wins, so it propagates as in PyTorch); -1 for a window wholly in padding.
  std::int32_t argmax(const float* x, std::int64_t q) const {
    const std::int32_t* w = window(q);
    std::int32_t best = -1;
    float best_value = 0;  // x[best] once best >= 0
    bool nan = false;
    for (std::int64_t j = 0; j < kernel_count_; ++j) {
      const std::int32_t i = w[j];
      if (i < 0) continue;
      const float v = x[i];
      nan |= std::isnan(v);
      // Selects by bit masks: GCC compiles `take ? v : best_value` to a branch, which random
      // data mispredicts (it made this the costliest loop of a fashion_cnn training step).
      const std::uint32_t take = 0u - static_cast<std::uint32_t>((best < 0) | (v > best_value));
      best = static_cast<std::int32_t>((static_cast<std::uint32_t>(i) & take) | (static_cast<std::uint32_t>(best) & ~take));
      best_value = std::bit_cast<float>((std::bit_cast<std::uint32_t>(v) & take) | (std::bit_cast<std::uint32_t>(best_value) & ~take));
    }
    return nan ? first_nan(x, q) : best;
  }

  // argmax() of every window of a plane when no window reaches into padding (the usual case):
  // blocks of windows side by side, one kernel slot at a time, so the compare-and-select loop
  // runs over independent windows and vectorises, where argmax() is one long dependency chain
  // per window. Same choice: the first largest element, or the first NaN.
  void argmax_of_full_windows(const float* x, std::int32_t* index) const {
    constexpr std::int64_t block = 64;
    float best_value[block], value[block];
    std::int32_t best[block], slot[block], nan[block];
    const std::int64_t out = g_.out_count();
    for (std::int64_t q0 = 0; q0 < out; q0 += block) {
      const std::int64_t m = std::min(block, out - q0);
      for (std::int64_t q = 0; q < m; ++q) {
        best[q] = window(q0 + q)[0];
        best_value[q] = x[best[q]];
        nan[q] = std::isnan(best_value[q]);
      }
      for (std::int64_t j = 1; j < kernel_count_; ++j) {
        for (std::int64_t q = 0; q < m; ++q) {
          slot[q] = window(q0 + q)[j];
          value[q] = x[slot[q]];
        }
        for (std::int64_t q = 0; q < m; ++q) {
          // Masks rather than `?:`, which GCC keeps as branches (see argmax()).
          const std::uint32_t take = 0u - static_cast<std::uint32_t>(value[q] > best_value[q]);
          best[q] = static_cast<std::int32_t>((static_cast<std::uint32_t>(slot[q]) & take) |
                                              (static_cast<std::uint32_t>(best[q]) & ~take));
          best_value[q] = std::bit_cast<float>((std::bit_cast<std::uint32_t>(value[q]) & take) |
                                               (std::bit_cast<std::uint32_t>(best_value[q]) & ~take));
          nan[q] |= static_cast<std::int32_t>(value[q] != value[q]);
        }
      }
      for (std::int64_t q = 0; q < m; ++q) index[q0 + q] = nan[q] ? first_nan(x, q0 + q) : best[q];
    }
  }

  // 2 × 2 windows, stride 2, on a plane (the usual downsampling): read from two input rows
  // directly rather than through the window table (pool_kernels.hpp), compared in the same
  // order with the same rule, the NaN rule included.
  void max_of_2x2(const float* x, std::int32_t* index, float* y) const {
    max_pool_2x2_plane(x, g_.in[1], g_.out[0], g_.out[1], false, index, y);
  }

  // max_of_2x2's backward over a plane. Its windows are disjoint, so every input element is
  // written once (route_2x2_plane), instead of zeroing the plane and adding.
  void route_2x2(const float* dy, const std::int32_t* index, float* dx) const {
    const std::int64_t height = g_.in[0], width = g_.in[1], out_h = g_.out[0], out_w = g_.out[1];
    route_2x2_plane(dy, nullptr, index, width, out_h, out_w, dx);
    for (std::int64_t row = 0; row < 2 * out_h; ++row)
      for (std::int64_t x = 2 * out_w; x < width; ++x) dx[row * width + x] = 0.0f;  // an odd width's last column
    std::fill(dx + 2 * out_h * width, dx + height * width, 0.0f);  // an odd height's last row
  }

  std::int32_t first_nan(const float* x, std::int64_t q) const {
    const std::int32_t* w = window(q);
    for (std::int64_t j = 0; j < kernel_count_; ++j)
      if (w[j] >= 0 && std::isnan(x[w[j]])) return w[j];
    return -1;  // not reached: called when the window holds a NaN
  }

  float average(const float* x, std::int64_t q) const {
    const std::int32_t* w = window(q);
    float sum = 0;
    for (std::int64_t j = 0; j < kernel_count_; ++j)
      if (w[j] >= 0) sum += x[w[j]];
    return sum / divisor_[static_cast<std::size_t>(q)];
  }

  void tabulate_windows() {
    const std::int64_t out = g_.out_count(), k = g_.kernel_count();
    kernel_count_ = k;
    windows_.assign(static_cast<std::size_t>(out * k), -1);
    full_windows_ = true;
    two_by_two_ = kind_ == Kind::max && g_.dims == 2;  // average pooling has no argmax to route through
    for (std::size_t d = 0; d < g_.dims; ++d)
      two_by_two_ = two_by_two_ && g_.kernel[d] == 2 && g_.stride[d] == 2 && g_.dilation[d] == 1 && g_.pad_before[d] == 0;
    divisor_.assign(static_cast<std::size_t>(out), 0.0f);
    WindowGeometry::Extents o{};
    for (std::int64_t q = 0; q < out; ++q) {
      WindowGeometry::Extents kk{};
      std::int64_t real = 0, padded = 0;  // slots on an input / on an input or its padding
      for (std::int64_t j = 0; j < k; ++j) {
        std::int64_t index = 0;
        bool inside = true, in_padding = true;
        for (std::size_t d = 0; d < g_.dims; ++d) {
          const std::int64_t i = o[d] * g_.stride[d] - g_.pad_before[d] + kk[d] * g_.dilation[d];
          inside = inside && i >= 0 && i < g_.in[d];
          // Explicit padding is symmetric ("valid" has none): pad_after = pad_before.
          in_padding = in_padding && i >= -g_.pad_before[d] && i < g_.in[d] + g_.pad_before[d];
          index = index * g_.in[d] + i;
        }
        if (inside) windows_[static_cast<std::size_t>(q * k + j)] = static_cast<std::int32_t>(index), ++real;
        padded += in_padding;
        full_windows_ = full_windows_ && inside;
        two_by_two_ = two_by_two_ && inside;
        advance(kk, g_.kernel);
      }
      divisor_[static_cast<std::size_t>(q)] = static_cast<float>(count_include_pad_ ? padded : real);
      advance(o, g_.out);
    }
  }
  // Row-major odometer step over `extent` (last axis fastest).
  void advance(WindowGeometry::Extents& i, const WindowGeometry::Extents& extent) const {
    for (std::size_t d = g_.dims; d-- > 0;) {
      if (++i[d] < extent[d]) return;
      i[d] = 0;
    }
  }

  Kind kind_;
  std::string type_;
  WindowSettings settings_;
  bool count_include_pad_;
  WindowGeometry g_;
  std::int64_t channels_ = 0, kernel_count_ = 0;
  std::vector<std::int32_t> windows_;  // (out positions × kernel slots): input index or -1
  std::vector<float> divisor_;         // per output position (average pooling)
  bool full_windows_ = true;           // no window slot lies in padding
  bool two_by_two_ = false;            // full 2 × 2 windows with stride 2 on a plane
};

// global_*_pool: (C, spatial...) → (C), the max or mean of each channel.
class GlobalPool final : public Layer {
 public:
  GlobalPool(bool max, std::string type) : max_(max), type_(std::move(type)) {}

  Shape infer(const Shape& input) override {
    if (input.rank() < 2)
      throw ShapeError(type_ + " needs a per-sample input (channels, spatial...) of rank 2 or more, got rank " +
                       std::to_string(input.rank()));
    channels_ = input[0];
    positions_ = input.numel() / channels_;
    return Shape{channels_};
  }

  void forward(const ForwardArgs& a) const override {
    const std::int64_t planes = a.x.shape()[0] * channels_;
    for (std::int64_t p = 0; p < planes; ++p) {
      const float* x = a.x.data() + p * positions_;
      if (max_) {
        a.y[static_cast<std::size_t>(p)] = x[argmax(x)];
      } else {
        float sum = 0;
        for (std::int64_t i = 0; i < positions_; ++i) sum += x[i];
        a.y[static_cast<std::size_t>(p)] = sum / static_cast<float>(positions_);
      }
    }
  }

  // Max finds its argmax in x again; average spreads dy evenly.
  BackwardNeeds backward_needs() const override { return {.inputs = max_, .output = false}; }

  void backward(const BackwardArgs& a) const override {
    if (a.dx.empty()) return;
    const std::int64_t planes = a.x.shape()[0] * channels_;
    for (std::int64_t p = 0; p < planes; ++p) {
      const float* x = a.x.data() + p * positions_;
      float* dx = a.dx.data() + p * positions_;
      const float dy = a.dy[static_cast<std::size_t>(p)];
      if (max_) {
        std::fill_n(dx, positions_, 0.0f);
        dx[argmax(x)] = dy;
      } else {
        std::fill_n(dx, positions_, dy / static_cast<float>(positions_));
      }
    }
  }

 private:
  std::int64_t argmax(const float* x) const {
    std::int64_t best = 0;
    for (std::int64_t i = 0; i < positions_; ++i) {
      if (std::isnan(x[i])) return i;
      if (x[i] > x[best]) best = i;
    }
    return best;
  }

  bool max_;
  std::string type_;
  std::int64_t channels_ = 0, positions_ = 0;
};

void add_pools(Registries& r, Pool::Kind kind, const std::string& prefix, const std::string& what) {
  Json defaults = {{"kernel", nullptr}, {"stride", "kernel"}, {"padding", 0}, {"ceil_mode", false}};
  if (kind == Pool::Kind::average) defaults["count_include_pad"] = true;
  if (kind == Pool::Kind::max) defaults["dilation"] = 1;  // PyTorch's avg_pool has none either
  for (std::size_t dims = 1; dims <= 3; ++dims) {
    const std::string name = prefix + std::to_string(dims) + "d";
    r.layers.add({name, std::to_string(dims) + "-d " + what, defaults,
                  [kind, name, dims](const Config& c) { return std::make_unique<Pool>(c, kind, name, dims); }});
  }
  Json generic = defaults;
  generic["dims"] = nullptr;
  r.layers.add({prefix, what + " over \"dims\" (1..4) spatial axes", generic,
                [kind, prefix](const Config& c) { return std::make_unique<Pool>(c, kind, prefix, 0); }});
}

}  // namespace

void register_pooling(Registries& r) {
  add_pools(r, Pool::Kind::max, "max_pool", "max pooling: the largest value of each window");
  add_pools(r, Pool::Kind::average, "avg_pool", "average pooling (count_include_pad as PyTorch)");
  r.layers.add({"global_max_pool", "(C, spatial...) → (C): the largest value of each channel", Json::object(),
                [](const Config&) { return std::make_unique<GlobalPool>(true, "global_max_pool"); }});
  r.layers.add({"global_avg_pool", "(C, spatial...) → (C): the mean of each channel", Json::object(),
                [](const Config&) { return std::make_unique<GlobalPool>(false, "global_avg_pool"); }});
}

}  // namespace weft::builtin
