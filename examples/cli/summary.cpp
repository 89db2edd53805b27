// weft summary SPEC.json: the layer table, then the activation and gradient memory a pass holds
// per sample (weft/executor.hpp): training keeps every layer output for backward, inference
// reuses an output's buffer once its last reader has run; pairs of layers that run fused (their
// intermediate output never stored) are named.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "weft/executor.hpp"
#include "weft/model.hpp"

namespace weft::cli {
namespace {

std::string kilobytes(std::int64_t floats) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f KB", static_cast<double>(floats) * sizeof(float) / 1024.0);
  return text;
}

}  // namespace

Command add_summary(CLI::App& app) {
  auto spec = std::make_shared<std::string>();
  auto* su = app.add_subcommand("summary", "print the layers, output shapes and parameter counts of a spec, and the "
                                           "activation memory per sample");
  su->add_option("spec", *spec, "model spec (JSON)")->required();
  return [spec] {
    Model model(read_spec_file(*spec));
    std::cout << model.summary();
    const Executor training(model, {.threads = 1}), inference(model, {.threads = 1, .reuse_activations = true});
    const std::int64_t kept = training.activation_floats_per_sample(), reused = inference.activation_floats_per_sample();
    const std::int64_t gradients = training.gradient_floats_per_sample();
    std::cout << "memory per sample: training " << kept << " activation floats (" << kilobytes(kept) << ") + " << gradients
              << " gradient floats (" << kilobytes(gradients) << "); inference " << reused << " activation floats ("
              << kilobytes(reused) << ")\n";
    std::string fused;
    for (std::size_t l = 0; l + 1 < model.layer_count(); ++l)
      if (training.fused_with_next(l))
        fused += (fused.empty() ? "" : ", ") + model.layer(l).name + " + " + model.layer(l + 1).name;
    if (!fused.empty()) std::cout << "fused (one layer each, the first's output never stored): " << fused << "\n";
    return 0;
  };
}

}  // namespace weft::cli
