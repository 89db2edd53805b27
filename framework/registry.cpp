#include "weft/registry.hpp"

namespace weft {

void register_builtins(Registries& registries);  // modules/builtins.cpp

namespace {
std::string& provider_slot() {
  static std::string provider = "built-in";
  return provider;
}
}  // namespace

const std::string& current_provider() { return provider_slot(); }
void set_current_provider(std::string provider) { provider_slot() = std::move(provider); }

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

Json resolve_config(const Json& spec, const Json& defaults, const std::string& context,
                    std::span<const std::string_view> extra_keys) {
  if (!spec.is_object()) throw SpecError(context + ": expected an object of settings, got " + describe(spec));
  for (const auto& [key, value] : spec.items()) {
    if (defaults.contains(key)) continue;
    std::vector<std::string> known;
    for (const auto& [k, _] : defaults.items()) known.push_back(k);
    for (auto k : extra_keys) known.emplace_back(k);
    throw SpecError(context + ": unknown setting '" + key + "'; accepted settings: " + join_names(known));
  }
  Json out = defaults;
  for (const auto& [key, value] : spec.items()) out[key] = value;
  for (const auto& [key, value] : out.items())
    if (value.is_null()) throw SpecError(context + ": the setting '" + key + "' is required");
  return out;
}

Registries& registry() {
  static Registries* instance = [] {
    auto* r = new Registries;  // never destroyed: plugins may still reference it at exit
    set_current_provider("built-in");
    register_builtins(*r);
    return r;
  }();
  return *instance;
}

}  // namespace weft
