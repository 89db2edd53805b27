// Layers that only change the per-sample shape; the values are copied unchanged (the executor
// gives every layer its own output buffer).
//   flatten: (d1, d2, ...) → (d1·d2·...)
//   reshape: → "shape", a per-sample target shape (no batch axis) in which one entry may be -1,
//            meaning "whatever makes the element count match".
#include <algorithm>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class Reshape final : public Layer {
 public:
  // An empty target means flatten.
  explicit Reshape(std::vector<std::int64_t> target) : target_(std::move(target)) {}

  Shape infer(const Shape& input) override {
    if (target_.empty()) return Shape{input.numel()};
    std::int64_t known = 1;
    std::vector<std::int64_t> dims = target_;
    auto free = std::find(dims.begin(), dims.end(), -1);
    for (auto d : dims)
      if (d != -1) known *= d;
    if (free != dims.end()) {
      if (input.numel() % known != 0)
        throw ShapeError("reshape to " + describe(Json(target_)) + " needs an element count divisible by " +
                         std::to_string(known) + ", got " + std::to_string(input.numel()));
      *free = input.numel() / known;
    } else if (known != input.numel()) {
      throw ShapeError("reshape to " + describe(Json(target_)) + " needs " + std::to_string(known) +
                       " elements per sample, got " + std::to_string(input.numel()));
    }
    return Shape(std::span<const std::int64_t>(dims));
  }

  void forward(const ForwardArgs& a) const override { std::copy_n(a.x.data(), a.x.size(), a.y.data()); }
  BackwardNeeds backward_needs() const override { return {.inputs = false, .output = false}; }  // dx = dy
  void backward(const BackwardArgs& a) const override {
    if (!a.dx.empty()) std::copy_n(a.dy.data(), a.dy.size(), a.dx.data());
  }

 private:
  std::vector<std::int64_t> target_;
};

std::vector<std::int64_t> read_target(const Config& c) {
  const Json& v = c.raw("shape");
  const std::string expected = "a list of 1 to " + std::to_string(Shape::max_rank - 1) +
                               " positive integers, one of which may be -1";
  if (!v.is_array() || v.empty() || v.size() >= Shape::max_rank) c.fail("shape", expected);
  std::vector<std::int64_t> out;
  for (const auto& d : v) {
    if (!d.is_number_integer() || (d.get<std::int64_t>() < 1 && d.get<std::int64_t>() != -1)) c.fail("shape", expected);
    out.push_back(d.get<std::int64_t>());
  }
  if (std::count(out.begin(), out.end(), -1) > 1) c.fail("shape", expected + " (only one -1)");
  return out;
}

}  // namespace

void register_shape_layers(Registries& r) {
  r.layers.add({"flatten", "(d1, d2, ...) → (d1·d2·...) per sample", Json::object(),
                [](const Config&) { return std::make_unique<Reshape>(std::vector<std::int64_t>{}); }});
  r.layers.add({"reshape", "per-sample reshape to \"shape\" (one entry may be -1)", {{"shape", nullptr}},
                [](const Config& c) { return std::make_unique<Reshape>(read_target(c)); }});
}

}  // namespace weft::builtin
