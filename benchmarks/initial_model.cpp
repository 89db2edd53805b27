// initial_model: writes the weights `weft train SPEC --seed SEED` starts from as a weft model file,
// so that benchmarks/compare can start PyTorch from the very same initial weights (its accuracy
// comparison then differs only in data order and float rounding, not in the initial draw).
// The same two calls as examples/cli/train.cpp: Model(spec), then initialize(seed); initial
// weights depend on the seed and the parameters' names only, not on the training settings.
//
// Usage: initial_model SPEC.json SEED OUT.h5
#include <cstdio>
#include <exception>
#include <string>

#include "weft/io/model_file.hpp"
#include "weft/model.hpp"

namespace {

std::uint64_t parse_seed(const std::string& text) {
  std::size_t used = 0;
  unsigned long long seed = 0;
  try {
    seed = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || text.front() == '-')
    throw weft::Error("SEED '" + text + "': expected a non-negative integer");
  return seed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: initial_model SPEC.json SEED OUT.h5\n");
    return 2;
  }
  try {
    weft::Model model(weft::read_spec_file(argv[1]));
    model.initialize(parse_seed(argv[2]));
    weft::io::save_model(model, argv[3]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "initial_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
