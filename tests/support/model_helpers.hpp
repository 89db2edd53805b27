#pragma once
// Small helpers shared by the test suites.
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "weft/model.hpp"

namespace weft::testing {

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
