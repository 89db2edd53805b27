// Checks scaled_tanh's backward pass with weft's own finite-difference gradient checker (the
// one every built-in layer passes), after loading this project's plugin like `weft` does.
// Usage: gradient_check PATH/libweft_example.so
#include <cstdio>

#include <weft/weft.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
    return 2;
  }
  try {
    weft::load_plugin(argv[1]);
    int failures = 0;
    // A flat and an image-like input; alpha drawn away from 1 so a wrong alpha term shows.
    for (const auto& shape : {weft::Shape{7}, weft::Shape{2, 3, 3}}) {
      const weft::Json layer = {{"type", "scaled_tanh"}, {"alpha_init", {{"type", "uniform"}, {"low", 0.5}, {"high", 2.0}}}};
      const auto result = weft::check_layer_gradients(layer, shape);
      std::printf("scaled_tanh on %s: %lld checked, %lld skipped: %s\n", shape.str().c_str(),
                  static_cast<long long>(result.checked), static_cast<long long>(result.skipped),
                  result.ok ? "ok" : "FAILED");
      if (!result.ok) {
        std::printf("%s", result.report.c_str());
        ++failures;
      }
    }
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gradient_check: error: %s\n", e.what());
    return 1;
  }
}
