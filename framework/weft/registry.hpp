#pragma once
// The registry: the one way modules enter a model. Each kind (layers, losses, optimizers,
// initializers, schedules, regularizers) maps a name to a factory that builds the module from its JSON configuration.
// Built-ins are registered explicitly when the registry is first used (so no linker can drop
// them); plugins register through the same calls when they are loaded.
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "weft/config.hpp"
#include "weft/initializer.hpp"
#include "weft/layer.hpp"
#include "weft/loss.hpp"
#include "weft/optimizer.hpp"
#include "weft/regularizer.hpp"
#include "weft/schedule.hpp"

namespace weft {

// One registered module of kind T (Layer, Loss, ...): what `weft list` shows and how to build it.
template <class T>
struct ModuleInfo {
  std::string name;     // the spec's "type", e.g. "dense"; unique within its kind
  std::string summary;  // one line for `weft list`
  // Every key the module accepts with its default; null marks a required key. Keys outside this
  // object are rejected, so a typo is an error rather than a silently ignored setting.
  Json defaults = Json::object();
  // Builds the module from its resolved settings; may throw SpecError (through Config) for a
  // value its type allows but the module does not.
  std::function<std::unique_ptr<T>(const Config&)> create;
};

// Who is registering right now ("built-in", or a plugin path while it loads).
const std::string& current_provider();
void set_current_provider(std::string provider);  // the plugin loader sets it around each plugin

// Rejects keys in `spec` that are not in `defaults`, then returns the spec merged over the
// defaults with required (null) keys checked. `context` names the place; `extra_keys` are other
// keys the caller accepts at the same level (listed in the error so the user sees them all).
Json resolve_config(const Json& spec, const Json& defaults, const std::string& context,
                    std::span<const std::string_view> extra_keys);

// "a, b, c" for error messages, or "(none)" for an empty list.
std::string join_names(const std::vector<std::string>& names);

// The modules of one kind, by name (kept sorted, so listings are in name order), each with the
// provider that registered it.
template <class T>
class Registry {
 public:
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}  // e.g. "layer"

  const std::string& kind() const { return kind_; }  // the singular noun used in messages

  // Throws Error when the name is taken, naming both providers.
  void add(ModuleInfo<T> info) {
    if (auto it = entries_.find(info.name); it != entries_.end())
      throw Error(kind_ + " '" + info.name + "' is registered twice: by " + it->second.provider + " and by " +
                  current_provider());
    std::string name = info.name;
    entries_.emplace(std::move(name), Entry{std::move(info), current_provider()});
  }

  // "built-in" or the path of the plugin that registered `name`.
  const std::string& provider(std::string_view name) const { return entries_.find(name)->second.provider; }

  // Whether a module of this name is registered.
  bool contains(std::string_view name) const { return entries_.find(std::string(name)) != entries_.end(); }

  // Throws SpecError listing the known names when `name` is unknown.
  const ModuleInfo<T>& info(std::string_view name, const std::string& context) const {
    auto it = entries_.find(std::string(name));
    if (it == entries_.end())
      throw SpecError(context + ": unknown " + kind_ + " type '" + std::string(name) + "'; known " + kind_ +
                      "s: " + join_names(names()) +
                      " (a module from a plugin needs the plugin loaded: --plugin or WEFT_PLUGIN_PATH)");
    return it->second.info;
  }

  // The registered names in sorted order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, _] : entries_) out.push_back(name);
    return out;
  }
  std::size_t size() const { return entries_.size(); }  // the number of registered modules
  // Whether any module here was registered by `provider`.
  bool provided_by(std::string_view provider) const {
    for (const auto& [_, entry] : entries_)
      if (entry.provider == provider) return true;
    return false;
  }

  // Throws Error naming both providers when a name of `other` is taken here.
  void check_disjoint(const Registry& other) const {
    for (const auto& [name, entry] : other.entries_)
      if (auto it = entries_.find(name); it != entries_.end())
        throw Error(kind_ + " '" + name + "' is registered twice: by " + it->second.provider + " and by " +
                    entry.provider);
  }
  // Moves every entry of `other` (disjoint, see check_disjoint) in, keeping their providers.
  void take(Registry&& other) {
    entries_.merge(other.entries_);
    other.entries_.clear();
  }

  // Every module's info in name order; the pointers stay valid while the registry lives.
  std::vector<const ModuleInfo<T>*> all() const {
    std::vector<const ModuleInfo<T>*> out;
    for (const auto& [_, entry] : entries_) out.push_back(&entry.info);
    return out;
  }

  // Builds a module from `spec`, an object with "type" (or a bare type-name string).
  // Returns the module and its resolved configuration (type first, every key filled in).
  struct Built {
    std::unique_ptr<T> module;  // the module, owned by the caller
    Json config;                // {"type": ..., every setting}: rebuilds the same module
  };
  // Throws SpecError naming `context` for a malformed spec, an unknown type or setting, or a
  // missing required setting; `extra_keys` are keys the caller reads itself (left out of the
  // module's settings).
  Built create(const Json& spec, const std::string& context,
               std::span<const std::string_view> extra_keys = {}) const {
    Json object = spec.is_string() ? Json{{"type", spec}} : spec;
    if (!object.is_object() || !object.contains("type") || !object["type"].is_string())
      throw SpecError(context + ": a " + kind_ + " must be an object with a \"type\" string, got " + describe(spec));
    const std::string type = object["type"];
    const std::string where = context + " (" + type + ")";
    const ModuleInfo<T>& entry = info(type, context);
    Json module_spec = object;
    module_spec.erase("type");
    for (auto key : extra_keys) module_spec.erase(std::string(key));
    Json values = resolve_config(module_spec, entry.defaults, where, extra_keys);
    Json resolved = Json{{"type", type}};
    resolved.update(values);
    return {entry.create(Config(where, values)), std::move(resolved)};
  }

 private:
  struct Entry {
    ModuleInfo<T> info;
    std::string provider;
  };
  std::string kind_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// One Registry per kind of module: the built-ins and every loaded plugin's modules.
struct Registries {
  Registry<Layer> layers{"layer"};                    // weft/layer.hpp
  Registry<Loss> losses{"loss"};                      // weft/loss.hpp
  Registry<Optimizer> optimizers{"optimizer"};        // weft/optimizer.hpp
  Registry<Initializer> initializers{"initializer"};  // parameter fills (weft/initializer.hpp)
  Registry<Schedule> schedules{"schedule"};        // learning-rate schedules (weft/schedule.hpp)
  Registry<Regularizer> regularizers{"regularizer"};  // weight and activity penalties (weft/regularizer.hpp)

  // Calls f(registry) for every kind above, in this order: what `weft list` and plugin loading
  // walk. A new kind joins the members above, the list in each_kind_of (below) and kind_count
  // (a static_assert below and a test check that they agree).
  static constexpr std::size_t kind_count = 6;
  template <class F>
  void for_each_kind(F&& f) {  // f gets each Registry<T>& in turn
    each_kind_of(*this, f);
  }
  template <class F>
  void for_each_kind(F&& f) const {  // f gets each const Registry<T>&
    each_kind_of(*this, f);
  }

  // Moves every module of `staged` in, or (when any of its names is taken here) throws Error
  // naming both providers and changes nothing.
  void merge(Registries&& staged);

 private:
  // The one list of kinds behind both for_each_kind overloads (Self is Registries or const
  // Registries, so f sees mutable or const registries to match).
  template <class Self, class F>
  static void each_kind_of(Self& self, F& f) {
    f(self.layers);
    f(self.losses);
    f(self.optimizers);
    f(self.initializers);
    f(self.schedules);
    f(self.regularizers);
  }
};
// Every Registry<T> has the same layout, so a member missing from kind_count changes the size.
static_assert(sizeof(Registries) == Registries::kind_count * sizeof(Registry<Layer>),
              "a Registries member is missing from kind_count / for_each_kind");

// Every registered module as JSON, kinds and modules in name order:
//
//   {"layer": [{"name": "dense", "summary": "...", "provider": "built-in",
//               "settings": {"units": null, "bias": true, ...}}, ...], "loss": [...], ...}
// What `weft list` prints; "settings" is ModuleInfo::defaults (null: required).
Json module_catalogue(const Registries& registries);

// Registers the built-in modules into `registries` (registry() does it once for the process).
void register_builtins(Registries& registries);

// The process-wide registry, with the built-in modules registered on first use.
Registries& registry();

}  // namespace weft
