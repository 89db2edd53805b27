// weft list [KIND] [--json]: every registered module (built-in or from a plugin) by kind, with
// its settings and their defaults, read from what each module declares in the registry.
#include <algorithm>
#include <iostream>

#include "commands.hpp"
#include "weft/registry.hpp"

namespace weft::cli {
namespace {

struct ListArgs {
  std::string kind;
  bool json = false;
};

std::string plural(const std::string& kind) { return kind + (kind.ends_with("s") ? "es" : "s"); }

// "units: required, bias: true, init: \"glorot_uniform\""
std::string settings_line(const Json& settings) {
  std::string line;
  for (const auto& [key, value] : settings.items())
    line += (line.empty() ? "" : ", ") + key + ": " + (value.is_null() ? std::string("required") : value.dump());
  return line.empty() ? "(no settings)" : line;
}

int run(const ListArgs& a) {
  Json catalogue = module_catalogue(registry());
  if (!a.kind.empty()) {
    std::string chosen;
    std::vector<std::string> kinds;
    for (const auto& [kind, _] : catalogue.items()) {
      kinds.push_back(kind);
      if (a.kind == kind || a.kind == plural(kind)) chosen = kind;
    }
    if (chosen.empty()) throw Error("weft list: unknown kind '" + a.kind + "'; kinds: " + join_names(kinds));
    catalogue = Json{{chosen, catalogue[chosen]}};
  }
  if (a.json) {
    std::cout << catalogue.dump(2) << "\n";
    return 0;
  }
  for (const auto& [kind, modules] : catalogue.items()) {
    std::cout << plural(kind) << " (" << modules.size() << ")\n";
    std::size_t width = 0;
    for (const auto& m : modules) width = std::max(width, m["name"].get<std::string>().size());
    for (const auto& m : modules) {
      const std::string name = m["name"];
      std::cout << "  " << name << std::string(width - name.size(), ' ') << "  [" << m["provider"].get<std::string>()
                << "]  " << m["summary"].get<std::string>() << "\n";
      std::cout << "  " << std::string(width, ' ') << "  " << settings_line(m["settings"]) << "\n";
    }
  }
  return 0;
}

}  // namespace

Command add_list(CLI::App& app) {
  auto args = std::make_shared<ListArgs>();
  auto* li = app.add_subcommand("list", "list every registered module with its settings, defaults and provider");
  li->add_option("kind", args->kind, "only this kind (layer, loss, optimizer, ...; singular or plural)");
  li->add_flag("--json", args->json, "print JSON: {kind: [{name, summary, provider, settings}]}");
  return [args] { return run(*args); };
}

}  // namespace weft::cli
