// weft: the command-line front end. Every error is one line on stderr and a non-zero exit.
#include <cstdio>
#include <memory>
#include <vector>

#include "commands.hpp"
#include "weft/plugins.hpp"

int main(int argc, char** argv) {
  CLI::App app{"weft: train and evaluate neural networks on multicore CPUs"};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, weft::cli::Command>> commands;
  // Every subcommand takes --plugin, so plugin modules work wherever a module name can appear.
  std::vector<std::string> plugins;
  for (auto add : {weft::cli::add_train, weft::cli::add_evaluate, weft::cli::add_summary, weft::cli::add_list, weft::cli::add_plot,
                    weft::cli::add_export, weft::cli::add_predict}) {
    const std::size_t before = app.get_subcommands({}).size();
    auto run = add(app);
    CLI::App* sub = app.get_subcommands({})[before];
    sub->add_option("--plugin", plugins, "load modules from this plugin (a shared object); repeatable. "
                                         "WEFT_PLUGIN_PATH (colon-separated files or folders) adds more")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    commands.emplace_back(sub, std::move(run));
  }
  // A command-line mistake is one line, as every other error: CLI11's default adds a second.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("weft: error: ") + e.what() + " (--help lists the options)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    weft::load_plugins_from_environment();
    for (const auto& plugin : plugins) weft::load_plugin(plugin);
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
