#pragma once
// Building a model in C++ rather than JSON:
//
//   weft::Sequential net({1, 28, 28});
//   net.add(weft::conv2d(32, 3).with("init", "he_normal")).add(weft::relu()).add(weft::max_pool2d(2))
//      .add(weft::flatten()).add(weft::dense(10))
//      .loss("cross_entropy").optimizer(weft::adam(1e-3));
//   weft::Model model = net.build();
//
// A Sequential only writes the model spec; build() goes through the registry exactly like a JSON
// spec, so plugin modules ("scaled_tanh" or weft::module("scaled_tanh").with(...)) work the same,
// and every setting is checked there (an unknown key or a bad value names the layer).
#include <cstdint>
#include <string>

#include "weft/config.hpp"
#include "weft/model.hpp"
#include "weft/shape.hpp"

namespace weft {

// One module of a spec: a registered type and its settings.
class ModuleSpec {
 public:
  // Implicit, so a bare name stands for a module with default settings: net.add("relu").
  ModuleSpec(const char* type) : json_{{"type", type}} {}
  ModuleSpec(const std::string& type) : json_{{"type", type}} {}  // the same from a std::string

  // Sets one setting (any JSON value); returns the spec for chaining.
  ModuleSpec& with(const std::string& key, Json value) & {
    json_[key] = std::move(value);
    return *this;
  }
  // The same on a temporary, so dense(10).with("bias", false) stays a value.
  ModuleSpec&& with(const std::string& key, Json value) && { return std::move(with(key, std::move(value))); }

  const Json& json() const { return json_; }  // {"type": ..., settings...}, unchecked

 private:
  Json json_;
};

// Any registered module by name, for chaining settings: weft::module("leaky_relu").with("slope", 0.1).
inline ModuleSpec module(const std::string& type) { return ModuleSpec(type); }

// Short forms for the common built-ins; their required settings are the arguments.
inline ModuleSpec dense(std::int64_t units) { return module("dense").with("units", units); }
// `filters` output channels, a square `kernel` × `kernel` window.
inline ModuleSpec conv2d(std::int64_t filters, std::int64_t kernel) {
  return module("conv2d").with("filters", filters).with("kernel", kernel);
}
// Pooling over `kernel` × `kernel` windows; the stride defaults to the kernel (no overlap).
inline ModuleSpec max_pool2d(std::int64_t kernel) { return module("max_pool2d").with("kernel", kernel); }
inline ModuleSpec avg_pool2d(std::int64_t kernel) { return module("avg_pool2d").with("kernel", kernel); }  // see max_pool2d
// Zeroes each activation with probability `rate` (in [0, 1)) while training.
inline ModuleSpec dropout(double rate) { return module("dropout").with("rate", rate); }
inline ModuleSpec relu() { return module("relu"); }        // max(x, 0)
inline ModuleSpec flatten() { return module("flatten"); }  // (d1, d2, ...) per sample to (d1·d2·...)
inline ModuleSpec batch_norm() { return module("batch_norm"); }  // with its default settings
// Stochastic gradient descent at learning rate `lr`, with optional momentum in [0, 1].
inline ModuleSpec sgd(double lr, double momentum = 0) { return module("sgd").with("lr", lr).with("momentum", momentum); }
inline ModuleSpec adam(double lr = 1e-3) { return module("adam").with("lr", lr); }  // Adam at rate `lr`

// Writes a model spec layer by layer from C++ (see the file comment); build() makes the Model.
class Sequential {
 public:
  // The per-sample input shape (no batch axis): {784} or {1, 28, 28}.
  explicit Sequential(const Shape& input);

  Sequential& add(const ModuleSpec& layer);  // appends a layer; returns *this for chaining
  Sequential& loss(const ModuleSpec& loss);  // sets (or replaces) the spec's "loss"
  Sequential& optimizer(const ModuleSpec& optimizer);  // sets (or replaces) the spec's "optimizer"
  // The spec's "training" object (batch, epochs, schedule, ...; see weft/training_config.hpp).
  Sequential& training(const Json& settings);

  // The JSON spec written so far (what `weft train` would read).
  const Json& spec() const { return spec_; }
  // Builds the model through the registry; throws SpecError / ShapeError as Model(spec) does.
  Model build() const { return Model(spec_); }

 private:
  Json spec_;
};

}  // namespace weft
