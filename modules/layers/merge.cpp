// Layers that merge several tensors (the "inputs" of a graph model, weft/model.hpp):
//   add, multiply: the elementwise sum / product of 2 or more inputs
//   subtract:      input 0 − input 1
//   concat:        the inputs joined along "axis" (a per-sample axis: 0, the channels, by
//                  default; negative counts from the end), equal in every other axis
// add, subtract and multiply broadcast as PyTorch does on the whole (batch, ...) tensors: the
// inputs have the same rank and each axis has one size or 1, and a size-1 axis is repeated
// ((C, H, W) + (C, 1, 1)). Inputs of different ranks are refused: with the batch axis in front,
// PyTorch would align the batch axis of the shorter one with a feature axis of the longer.
#include <algorithm>
#include <numeric>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

enum class Op { add, subtract, multiply };

const char* op_name(Op op) { return op == Op::add ? "add" : op == Op::subtract ? "subtract" : "multiply"; }

void check_count(std::span<const Shape> inputs, std::size_t min, std::size_t max, const std::string& type) {
  if (inputs.size() >= min && inputs.size() <= max) return;
  throw ShapeError(type + " reads " + (min == max ? std::to_string(min) : "at least " + std::to_string(min)) +
                   " inputs (name them in \"inputs\"), got " + std::to_string(inputs.size()));
}

class ElementwiseMerge final : public Layer {
 public:
  explicit ElementwiseMerge(Op op) : op_(op) {}

  Shape infer(const Shape& input) override { return infer_many(std::span<const Shape>(&input, 1)); }

  Shape infer_many(std::span<const Shape> inputs) override {
    check_count(inputs, 2, op_ == Op::subtract ? 2 : 16, op_name(op_));
    const std::size_t rank = inputs[0].rank();
    std::vector<std::int64_t> out = inputs[0].to_vector();
    for (std::size_t k = 1; k < inputs.size(); ++k) {
      if (inputs[k].rank() != rank)
        throw ShapeError("input " + std::to_string(k) + " has " + std::to_string(inputs[k].rank()) +
                         " axes and input 0 has " + std::to_string(rank) +
                         ": broadcasting needs the same number of per-sample axes (as PyTorch, whose batch axis "
                         "would otherwise meet a feature axis); reshape one to e.g. (C, 1, 1)");
      for (std::size_t d = 0; d < rank; ++d) {
        const auto a = out[d], b = inputs[k][d];
        if (a != b && a != 1 && b != 1)
          throw ShapeError("shapes " + inputs[0].str() + " and " + inputs[k].str() + " differ in axis " +
                           std::to_string(d) + " (" + std::to_string(a) + " vs " + std::to_string(b) +
                           "): each axis must have one size, or 1 in some inputs");
        out[d] = std::max(a, b);
      }
    }
    output_ = Shape(std::span<const std::int64_t>(out));
    // For every input that broadcasts, where each output element reads from.
    offsets_.assign(inputs.size(), {});
    numel_.clear();
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      numel_.push_back(inputs[k].numel());
      if (inputs[k] == output_) continue;
      std::vector<std::int64_t> stride(rank, 0);
      std::int64_t s = 1;
      for (std::size_t d = rank; d-- > 0;) {
        stride[d] = inputs[k][d] == 1 ? 0 : s;
        s *= inputs[k][d];
      }
      auto& map = offsets_[k];
      map.resize(static_cast<std::size_t>(output_.numel()));
      for (std::int64_t i = 0; i < output_.numel(); ++i) {
        std::int64_t rest = i, offset = 0;
        for (std::size_t d = rank; d-- > 0;) {
          offset += (rest % out[d]) * stride[d];
          rest /= out[d];
        }
        map[static_cast<std::size_t>(i)] = offset;
      }
    }
    return output_;
  }

  void forward(const ForwardArgs& a) const override {
    const auto n = a.y.shape()[0];
    const auto per = static_cast<std::size_t>(output_.numel());
    for (std::int64_t s = 0; s < n; ++s) {
      float* y = a.y.data() + static_cast<std::size_t>(s) * per;
      for (std::size_t i = 0; i < per; ++i) {
        float v = input(a.xs, 0, s, i);
        for (std::size_t k = 1; k < a.xs.size(); ++k) {
          const float x = input(a.xs, k, s, i);
          v = op_ == Op::add ? v + x : op_ == Op::subtract ? v - x : v * x;
        }
        y[i] = v;
      }
    }
  }

  // A product's gradient reads the other factors; a sum's or difference's reads nothing.
  BackwardNeeds backward_needs() const override { return {.inputs = op_ == Op::multiply, .output = false}; }

  void backward(const BackwardArgs& a) const override {
    const auto n = a.dy.shape()[0];
    const auto per = static_cast<std::size_t>(output_.numel());
    for (std::size_t k = 0; k < a.dxs.size(); ++k) {
      const View& dx = a.dxs[k];
      if (dx.empty()) continue;
      const float sign = op_ == Op::subtract && k == 1 ? -1.0f : 1.0f;
      const auto in_per = static_cast<std::size_t>(numel_[k]);
      const bool broadcast = !offsets_[k].empty();
      if (broadcast) std::fill(dx.data(), dx.data() + dx.size(), 0.0f);
      for (std::int64_t s = 0; s < n; ++s) {
        const float* dy = a.dy.data() + static_cast<std::size_t>(s) * per;
        float* d = dx.data() + static_cast<std::size_t>(s) * in_per;
        for (std::size_t i = 0; i < per; ++i) {
          float g = sign * dy[i];
          if (op_ == Op::multiply)
            for (std::size_t m = 0; m < a.xs.size(); ++m)
              if (m != k) g *= input(a.xs, m, s, i);
          if (broadcast) d[offsets_[k][i]] += g;
          else d[i] = g;
        }
      }
    }
  }

 private:
  // Input k's value at output element i of sample s.
  float input(std::span<const ConstView> xs, std::size_t k, std::int64_t s, std::size_t i) const {
    const float* x = xs[k].data() + static_cast<std::size_t>(s * numel_[k]);
    return offsets_[k].empty() ? x[i] : x[offsets_[k][i]];
  }

  Op op_;
  Shape output_;
  std::vector<std::int64_t> numel_;                 // per input, per sample
  std::vector<std::vector<std::int64_t>> offsets_;  // per input: output element → input element; empty: same shape
};

class Concat final : public Layer {
 public:
  explicit Concat(std::int64_t axis) : axis_(axis) {}

  Shape infer(const Shape& input) override { return infer_many(std::span<const Shape>(&input, 1)); }

  Shape infer_many(std::span<const Shape> inputs) override {
    check_count(inputs, 2, 64, "concat");
    const auto rank = static_cast<std::int64_t>(inputs[0].rank());
    const std::int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 0 || axis >= rank)
      throw ShapeError("'axis' " + std::to_string(axis_) + " is outside the " + std::to_string(rank) +
                       " per-sample axes of " + inputs[0].str());
    std::vector<std::int64_t> out = inputs[0].to_vector();
    out[static_cast<std::size_t>(axis)] = 0;
    blocks_.clear();
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      bool same = inputs[k].rank() == inputs[0].rank();
      for (std::int64_t d = 0; same && d < rank; ++d)
        same = d == axis || inputs[k][static_cast<std::size_t>(d)] == inputs[0][static_cast<std::size_t>(d)];
      if (!same)
        throw ShapeError("shapes " + inputs[0].str() + " and " + inputs[k].str() + " must be equal in every axis but " +
                         std::to_string(axis) + " to be joined along it");
      out[static_cast<std::size_t>(axis)] += inputs[k][static_cast<std::size_t>(axis)];
    }
    // A sample is `outer` runs of blocks, one block per input of blocks_[k] elements each.
    outer_ = 1;
    for (std::int64_t d = 0; d < axis; ++d) outer_ *= inputs[0][static_cast<std::size_t>(d)];
    for (const auto& in : inputs) blocks_.push_back(in.numel() / outer_);
    output_ = Shape(std::span<const std::int64_t>(out));
    return output_;
  }

  void forward(const ForwardArgs& a) const override { copy_blocks(a.xs, a.y, a.y.shape()[0]); }

  // The gradient is dy cut into blocks.
  BackwardNeeds backward_needs() const override { return {.inputs = false, .output = false}; }

  void backward(const BackwardArgs& a) const override {
    const auto n = a.dy.shape()[0];
    const auto per = output_.numel();
    for (std::int64_t s = 0; s < n; ++s) {
      const float* dy = a.dy.data() + s * per;
      for (std::int64_t o = 0; o < outer_; ++o)
        for (std::size_t k = 0; k < blocks_.size(); ++k) {
          const auto b = blocks_[k];
          if (!a.dxs[k].empty()) std::copy_n(dy, b, a.dxs[k].data() + (s * outer_ + o) * b);
          dy += b;
        }
    }
  }

 private:
  void copy_blocks(std::span<const ConstView> xs, View y, std::int64_t n) const {
    float* out = y.data();
    for (std::int64_t s = 0; s < n; ++s)
      for (std::int64_t o = 0; o < outer_; ++o)
        for (std::size_t k = 0; k < blocks_.size(); ++k) {
          const auto b = blocks_[k];
          out = std::copy_n(xs[k].data() + (s * outer_ + o) * b, b, out);
        }
  }

  std::int64_t axis_;
  Shape output_;
  std::int64_t outer_ = 1;
  std::vector<std::int64_t> blocks_;
};

}  // namespace

void register_merge(Registries& r) {
  r.layers.add({"add", "the elementwise sum of 2 or more inputs (\"inputs\"), size-1 axes broadcast as in PyTorch",
                Json::object(), [](const Config&) { return std::make_unique<ElementwiseMerge>(Op::add); }});
  r.layers.add({"subtract", "input 0 − input 1 (\"inputs\"), size-1 axes broadcast as in PyTorch", Json::object(),
                [](const Config&) { return std::make_unique<ElementwiseMerge>(Op::subtract); }});
  r.layers.add({"multiply", "the elementwise product of 2 or more inputs (\"inputs\"), size-1 axes broadcast as in PyTorch",
                Json::object(), [](const Config&) { return std::make_unique<ElementwiseMerge>(Op::multiply); }});
  r.layers.add({"concat", "2 or more inputs (\"inputs\") joined along the per-sample \"axis\" (0: channels; < 0: from the end)",
                {{"axis", 0}},
                [](const Config& c) { return std::make_unique<Concat>(c.integer("axis", -8, 8)); }});
}

}  // namespace weft::builtin
