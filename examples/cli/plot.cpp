// weft plot METRICS.csv -o curves.svg: training curves from a `weft train --log` file.
#include <cstdio>

#include "commands.hpp"
#include "weft/io/training_plot.hpp"

namespace weft::cli {

Command add_plot(CLI::App& app) {
  auto input = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>("curves.svg");
  auto* p = app.add_subcommand("plot", "draw loss and accuracy per epoch (training and validation) as an SVG");
  p->add_option("metrics", *input, "per-epoch metrics CSV (from weft train --log)")->required();
  p->add_option("-o,--out", *output, "SVG file to write")->capture_default_str();
  return [input, output] {
    const auto table = io::read_metrics_csv(*input);
    io::write_training_curves(table, *input, *output);
    std::printf("wrote %s (%zu epochs)\n", output->c_str(), table.rows.size());
    return 0;
  };
}

}  // namespace weft::cli
