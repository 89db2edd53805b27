#pragma once
// The weft command line: one file per subcommand, each adding itself to the CLI11 app and
// returning the function that runs it once the arguments are parsed.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace weft::cli {

inline constexpr const char* default_data_dir = "/usr/share/datasets/fashion-mnist";

using Command = std::function<int()>;

// Each returns the action to run when its subcommand was chosen; the options it binds live in
// the returned closure.
Command add_train(CLI::App& app);
Command add_evaluate(CLI::App& app);
Command add_summary(CLI::App& app);
Command add_export(CLI::App& app);
Command add_predict(CLI::App& app);
Command add_list(CLI::App& app);
Command add_plot(CLI::App& app);

}  // namespace weft::cli
