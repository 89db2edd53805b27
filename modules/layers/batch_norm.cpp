// batch_norm: batch normalisation over N·C (dense) or N·C·spatial (convolutional) inputs, as
// PyTorch's BatchNorm1d/2d/3d. Per channel c, over every sample and spatial position of the
// WHOLE mini-batch (m values):
//   training:   y = γ·(x − μ_B)/sqrt(σ²_B + ε) + β   (σ²_B biased, as PyTorch normalises)
//               running_mean ← (1 − momentum)·running_mean + momentum·μ_B
//               running_var  ← (1 − momentum)·running_var  + momentum·σ²_B·m/(m − 1)  (unbiased)
//   evaluation: y = γ·(x − running_mean)/sqrt(running_var + ε) + β
//
// The batch is sharded, so statistics go through the executor's two-phase hook: each shard
// reports per channel (count, mean, M2 = Σ(x − mean)²), summed in double about a shift K taken
// from the shard's own data (so Σ(x − K)² never cancels catastrophically), and merge_stats()
// folds shards together with Chan's parallel update, which stays accurate even when |mean| is
// much larger than the standard deviation. Backward needs two more whole-batch sums per channel,
// Σdy and Σdy·x̂, through the same hook:
//   dx = γ/sqrt(σ² + ε) · (dy − Σdy/m − x̂·Σ(dy·x̂)/m),  dγ = Σdy·x̂,  dβ = Σdy.
// Each shard writes its own share of dγ and dβ (kept in its workspace from the statistics
// phase); the executor sums shard gradients as usual. Sums use several independent double
// accumulators in a fixed order: fast (they pipeline) and still the same bits on every run.
#include <cmath>
#include <cstring>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

// Σa and Σa·b over `count` pairs (a_s = x_s − shift_x, b_s = y_s − shift_y). With y = x (and
// equal shifts) the second sum is Σ(x − shift)². Blocks of 64 pairs are summed in 8 float lanes
// of 8 terms each (vector instructions; error ~8 ulp of a block's magnitude), blocks are added
// in double; the order is fixed, so the result is the same bits on every run.
struct PairSums {
  double a = 0, ab = 0;
};
inline void add_pair_sums(const float* x, double shift_x, const float* y, double shift_y, std::int64_t count,
                          PairSums& out) {
  constexpr int lanes = 8;
  constexpr std::int64_t block = 64;
  using Lanes = float __attribute__((vector_size(lanes * sizeof(float))));  // GCC/Clang vectors
  const auto fx = static_cast<float>(shift_x), fy = static_cast<float>(shift_y);
  // Rounding the shifts to float moves them slightly; the blocks use the rounded ones, the
  // tail and the correction below account for the difference exactly in double.
  std::int64_t s = 0;
  double sum_a = 0, sum_ab = 0, sum_b = 0;  // over (x − fx), (x − fx)(y − fy), (y − fy)
  for (; s + block <= count; s += block) {
    Lanes a{}, ab{}, b{};
    for (std::int64_t j = 0; j < block; j += lanes) {
      Lanes u, v;
      std::memcpy(&u, x + s + j, sizeof u);  // unaligned vector loads
      std::memcpy(&v, y + s + j, sizeof v);
      u -= fx;
      v -= fy;
      a += u;
      b += v;
      ab += u * v;
    }
    for (int k = 0; k < lanes; ++k) {
      sum_a += a[k];
      sum_b += b[k];
      sum_ab += ab[k];
    }
  }
  for (; s < count; ++s) {
    const double u = double(x[s]) - fx, v = double(y[s]) - fy;
    sum_a += u;
    sum_b += v;
    sum_ab += u * v;
  }
  // From the float shifts back to the requested ones: u' = u + dx, v' = v + dy with
  // dx = fx − shift_x, dy = fy − shift_y:  Σu' = Σu + n·dx,  Σu'v' = Σuv + dy·Σu + dx·Σv + n·dx·dy.
  const double n = static_cast<double>(count), dx = double(fx) - shift_x, dy = double(fy) - shift_y;
  out.a += sum_a + n * dx;
  out.ab += sum_ab + dy * sum_a + dx * sum_b + n * dx * dy;
}

class BatchNorm final : public Layer {
 public:
  explicit BatchNorm(const Config& c)
      : momentum_(c.number("momentum", 0.0, 1.0)), eps_(c.number("eps", 0.0, 1.0, true)), affine_(c.boolean("affine")) {}

  Shape infer(const Shape& input) override {
    if (input.rank() < 1 || input.numel() == 0)
      throw ShapeError("batch_norm needs (channels,) or (channels, spatial...) per sample");
    channels_ = input[0];
    spatial_ = input.numel() / channels_;
    return input;
  }

  std::vector<ParamDecl> parameters() const override {
    if (!affine_) return {};
    return {{"weight", Shape{channels_}, "ones", false}, {"bias", Shape{channels_}, "zeros", true}};
  }
  std::vector<ParamDecl> buffers() const override {
    return {{"running_mean", Shape{channels_}, "zeros", false}, {"running_var", Shape{channels_}, "ones", false}};
  }

  // Forward: (count, mean, M2) per channel. Backward: (Σdy, Σdy·x̂) per channel.
  std::size_t forward_stats_size(bool training) const override { return training ? 3 * size() : 0; }
  std::size_t backward_stats_size(bool training) const override { return training ? 2 * size() : 0; }

  void forward_partial_stats(const ForwardArgs& a, std::span<double> partial) const override {
    const std::int64_t n = a.x.shape()[0];
    for (std::int64_t c = 0; c < channels_; ++c) {
      const double shift = a.x.data()[c * spatial_];  // a value of this channel: near the mean
      PairSums sums;
      for (std::int64_t i = 0; i < n; ++i) {
        const float* x = a.x.data() + (i * channels_ + c) * spatial_;
        add_pair_sums(x, shift, x, shift, spatial_, sums);
      }
      const double count = static_cast<double>(n * spatial_);
      partial[3 * c] = count;
      partial[3 * c + 1] = shift + sums.a / count;
      partial[3 * c + 2] = std::max(0.0, sums.ab - sums.a * sums.a / count);
    }
  }

  void merge_stats(std::span<double> total, std::span<const double> shard, bool backward_phase) const override {
    if (backward_phase) return Layer::merge_stats(total, shard, backward_phase);
    for (std::size_t c = 0; c < size(); ++c) {
      // Chan, Golub & LeVeque: combine two (count, mean, M2) summaries.
      double* t = &total[3 * c];
      const double* s = &shard[3 * c];
      const double count = t[0] + s[0], delta = s[1] - t[1];
      t[1] += delta * s[0] / count;
      t[2] += s[2] + delta * delta * t[0] * s[0] / count;
      t[0] = count;
    }
  }

  void update_buffers(std::span<const View> buffers, std::span<const double> stats, std::int64_t) const override {
    for (std::size_t c = 0; c < size(); ++c) {
      const double count = stats[3 * c];
      if (count < 2)
        throw Error("batch_norm: training needs more than one value per channel to estimate a variance; got a "
                    "batch of 1 with " + std::to_string(spatial_) + " value(s) per channel (use a larger batch)");
      const double unbiased = stats[3 * c + 2] / (count - 1);
      buffers[0][c] = static_cast<float>((1 - momentum_) * buffers[0][c] + momentum_ * stats[3 * c + 1]);
      buffers[1][c] = static_cast<float>((1 - momentum_) * buffers[1][c] + momentum_ * unbiased);
    }
  }

  void forward(const ForwardArgs& a) const override {
    const std::int64_t n = a.x.shape()[0];
    for (std::int64_t c = 0; c < channels_; ++c) {
      const Norm k = norm_of(c, a.pass.training, a.stats, a.buffers, a.params);
      const float mean = static_cast<float>(k.mean), scale = static_cast<float>(k.gamma * k.inv_std),
                  beta = static_cast<float>(k.beta);
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t at = (i * channels_ + c) * spatial_;
        const float* x = a.x.data() + at;
        float* y = a.y.data() + at;
        for (std::int64_t s = 0; s < spatial_; ++s) y[s] = (x[s] - mean) * scale + beta;
      }
    }
  }

  void backward_partial_stats(const BackwardArgs& a, std::span<double> partial) const override {
    const std::int64_t n = a.x.shape()[0];
    std::span<float> own = a.ws.floats(0, 2 * size());  // this shard's sums, for its dγ and dβ
    for (std::int64_t c = 0; c < channels_; ++c) {
      const Sums sums = dy_sums(a, n, c, norm_of(c, true, a.stats, a.buffers, a.params));
      partial[2 * c] = sums.dy;
      partial[2 * c + 1] = sums.dy_xhat;
      own[2 * static_cast<std::size_t>(c)] = static_cast<float>(sums.dy);
      own[2 * static_cast<std::size_t>(c) + 1] = static_cast<float>(sums.dy_xhat);
    }
  }

  // x̂ is recomputed from x (and the statistics) rather than read from y.
  BackwardNeeds backward_needs() const override { return {.inputs = true, .output = false}; }

  void backward(const BackwardArgs& a) const override {
    const std::int64_t n = a.x.shape()[0];
    const bool training = a.pass.training;
    const std::span<const float> own = training ? a.ws.floats(0, 2 * size()) : std::span<float>();
    for (std::int64_t c = 0; c < channels_; ++c) {
      const auto k = static_cast<std::size_t>(c);
      const Norm norm = norm_of(c, training, a.stats, a.buffers, a.params);
      if (affine_) {
        // This shard's share; the executor adds the shards' gradients.
        const Sums sums = training ? Sums{own[2 * k], own[2 * k + 1]} : dy_sums(a, n, c, norm);
        a.grads[0][k] = static_cast<float>(sums.dy_xhat);
        a.grads[1][k] = static_cast<float>(sums.dy);
      }
      if (a.dx.empty()) continue;
      // In evaluation the statistics are constants: dx = dy·γ/sqrt(running_var + ε).
      double mean_dy = 0, mean_dy_xhat = 0;
      if (training) {
        const double count = a.stats[3 * k];
        mean_dy = a.backward_stats[2 * k] / count;
        mean_dy_xhat = a.backward_stats[2 * k + 1] / count;
      }
      // dx = scale·(dy − mean_dy − (x − mean)·inv_std·mean_dy_xhat) = scale·dy − slope·x + offset
      const float mean = static_cast<float>(norm.mean), scale = static_cast<float>(norm.gamma * norm.inv_std),
                  mdy = static_cast<float>(mean_dy), slope = static_cast<float>(norm.inv_std * mean_dy_xhat);
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t at = (i * channels_ + c) * spatial_;
        const float *x = a.x.data() + at, *dy = a.dy.data() + at;
        float* dx = a.dx.data() + at;
        for (std::int64_t s = 0; s < spatial_; ++s) dx[s] = scale * (dy[s] - mdy - (x[s] - mean) * slope);
      }
    }
  }

 private:
  // One channel's normalisation: y = γ·(x − mean)·inv_std + β.
  struct Norm {
    double mean, inv_std, gamma, beta;
  };
  struct Sums {
    double dy = 0, dy_xhat = 0;
  };

  std::size_t size() const { return static_cast<std::size_t>(channels_); }

  Norm norm_of(std::int64_t c, bool training, std::span<const double> stats, std::span<const ConstView> buffers,
               std::span<const ConstView> params) const {
    const auto k = static_cast<std::size_t>(c);
    const double mean = training ? stats[3 * k + 1] : buffers[0][k];
    const double var = training ? stats[3 * k + 2] / stats[3 * k] : buffers[1][k];
    return {mean, 1.0 / std::sqrt(var + eps_), affine_ ? double(params[0][k]) : 1.0, affine_ ? double(params[1][k]) : 0.0};
  }

  // Σdy and Σdy·x̂ over this shard's values of channel c.
  Sums dy_sums(const BackwardArgs& a, std::int64_t n, std::int64_t c, const Norm& k) const {
    PairSums sums;  // Σdy and Σdy·(x − mean)
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t at = (i * channels_ + c) * spatial_;
      add_pair_sums(a.dy.data() + at, 0.0, a.x.data() + at, k.mean, spatial_, sums);
    }
    return {sums.a, sums.ab * k.inv_std};
  }

  double momentum_, eps_;
  bool affine_;
  std::int64_t channels_ = 0, spatial_ = 1;
};

}  // namespace

void register_batch_norm(Registries& r) {
  r.layers.add({"batch_norm",
                "normalise each channel by whole-batch statistics (running estimates in evaluation); "
                "N·C or N·C·spatial",
                {{"momentum", 0.1}, {"eps", 1e-5}, {"affine", true}},
                [](const Config& c) { return std::make_unique<BatchNorm>(c); }});
}

}  // namespace weft::builtin
