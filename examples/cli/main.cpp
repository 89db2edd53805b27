// weft: the command-line front end. Every error is one line on stderr and a non-zero exit.
#include <cstdio>
#include <memory>
#include <vector>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"weft: train and evaluate neural networks on multicore CPUs"};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, weft::cli::Command>> commands;
  for (auto add : {weft::cli::add_train, weft::cli::add_evaluate, weft::cli::add_summary, weft::cli::add_export,
                    weft::cli::add_predict}) {
    const std::size_t before = app.get_subcommands({}).size();
    auto run = add(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(run));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : commands)
      if (sub->parsed()) return run();
  } catch (const std::exception& e) {
    std::string message = e.what();
    for (auto& c : message)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "weft: error: %s\n", message.c_str());
    return 1;
  }
  return 0;
}
