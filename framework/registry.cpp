#include "weft/registry.hpp"

#include <type_traits>

namespace weft {

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

namespace {
// Calls f(mine, theirs) for each kind of two Registries, pairing members of the same type.
template <class F>
void for_each_kind_pair(Registries& a, Registries& b, F&& f) {
  std::size_t kind = 0;
  a.for_each_kind([&](auto& mine) {
    std::size_t other = 0;
    b.for_each_kind([&](auto& theirs) {
      if constexpr (std::is_same_v<decltype(mine), decltype(theirs)>)
        if (other == kind) f(mine, theirs);
      ++other;
    });
    ++kind;
  });
}
}  // namespace

void Registries::merge(Registries&& staged) {
  // Check everything before moving anything, so a conflict leaves both sides as they were.
  for_each_kind_pair(*this, staged, [](auto& mine, auto& theirs) { mine.check_disjoint(theirs); });
  for_each_kind_pair(*this, staged, [](auto& mine, auto& theirs) { mine.take(std::move(theirs)); });
}

Json module_catalogue(const Registries& registries) {
  Json out = Json::object();
  registries.for_each_kind([&](const auto& r) {
    Json modules = Json::array();
    for (const auto* info : r.all())
      modules.push_back({{"name", info->name},
                         {"summary", info->summary},
                         {"provider", r.provider(info->name)},
                         {"settings", info->defaults}});
    out[r.kind()] = std::move(modules);
  });
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
