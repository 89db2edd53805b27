// weft summary SPEC.json
#include <iostream>

#include "commands.hpp"
#include "weft/model.hpp"

namespace weft::cli {

Command add_summary(CLI::App& app) {
  auto spec = std::make_shared<std::string>();
  auto* su = app.add_subcommand("summary", "print the layers, output shapes and parameter counts of a spec");
  su->add_option("spec", *spec, "model spec (JSON)")->required();
  return [spec] {
    std::cout << Model(read_spec_file(*spec)).summary();
    return 0;
  };
}

}  // namespace weft::cli
