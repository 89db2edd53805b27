#pragma once
// Small helpers shared by the test suites.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include "weft/dataset.hpp"
#include "weft/model.hpp"
#include "weft/rng.hpp"
#include "weft/tensor.hpp"

namespace weft::testing {

// dense 8 → relu → dense 8 → relu → dense 2 on 4 features, mse: the chain whose activation
// buffers the reuse tests count by hand.
inline Json dense_relu_chain() {
  return {{"input", {4}},
          {"layers",
           {{{"type", "dense"}, {"units", 8}}, {{"type", "relu"}}, {{"type", "dense"}, {"units", 8}},
            {{"type", "relu"}}, {{"type", "dense"}, {"units", 2}}}},
          {"loss", "mse"}};
}

// A tensor of standard normal draws from CounterRng(seed), element i the i-th draw.
inline Tensor random_normal(const Shape& shape, std::uint64_t seed) {
  Tensor t(shape);
  const CounterRng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(rng.normal(i));
  return t;
}

// Whether two tensors hold the same floats, bit for bit (the determinism checks' equality).
inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Copies `values` into the parameter `name` ("dense_0/weight") of `model`.
inline void set_parameter(Model& model, const std::string& name, std::initializer_list<float> values) {
  for (const auto& t : model.parameter_table())
    if (t.name == name) {
      if (values.size() != t.size()) throw Error("set_parameter: wrong element count for " + name);
      std::copy(values.begin(), values.end(), model.parameters().data() + t.offset);
      return;
    }
  throw Error("set_parameter: no parameter " + name);
}

// The small classifier the io tests save and load: 6 features, dense 5, tanh, dense 3 named
// "head", cross-entropy, trained by `optimizer`.
inline Json small_classifier_spec(const Json& optimizer) {
  return {{"input", {6}},
          {"layers", {{{"type", "dense"}, {"units", 5}}, {{"type", "tanh"}}, {{"type", "dense"}, {"units", 3}, {"name", "head"}}}},
          {"loss", "cross_entropy"},
          {"optimizer", optimizer}};
}

// n samples of `features` standard-normal inputs with integer labels in [0, classes), all drawn
// from CounterRng(seed) (inputs from its counter, labels from derive(1)).
inline Dataset random_classification(std::int64_t n, std::int64_t features, std::uint64_t classes, std::uint64_t seed) {
  Dataset d{Tensor(Shape{n, features}), Tensor(Shape{n}), "synthetic"};
  const CounterRng rng(seed);
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = static_cast<float>(rng.normal(i));
  for (std::size_t i = 0; i < d.y.size(); ++i) d.y[i] = static_cast<float>(rng.derive(1).below(i, classes));
  return d;
}

// Runs f and returns the message of the weft::Error it throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A temporary folder removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline TempDir::TempDir() {
  char pattern[] = "/tmp/weft-test-XXXXXX";
  if (!mkdtemp(pattern)) throw Error("cannot create a temporary folder");
  path_ = pattern;
}
inline TempDir::~TempDir() { std::filesystem::remove_all(path_); }

}  // namespace weft::testing
