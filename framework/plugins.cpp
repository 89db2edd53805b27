#include "weft/plugins.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "weft/version.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

// The C entry points WEFT_PLUGIN exports (weft/plugin.hpp).
using AbiVersionFn = int (*)();
using WeftVersionFn = const char* (*)();
using RegisterFn = void (*)(Registries*);

// A dlopen handle closed on scope exit unless released (a loaded plugin stays for the process:
// its factories are called as long as the registry lives).
class Library {
 public:
  explicit Library(void* handle) : handle_(handle) {}
  ~Library() {
    if (handle_) dlclose(handle_);
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  void* symbol(const char* name) const { return dlsym(handle_, name); }
  void release() { handle_ = nullptr; }

 private:
  void* handle_;
};

// Sets current_provider() for the registrations made while it lives.
class ProviderScope {
 public:
  explicit ProviderScope(std::string provider) : previous_(current_provider()) {
    set_current_provider(std::move(provider));
  }
  ~ProviderScope() { set_current_provider(previous_); }
  ProviderScope(const ProviderScope&) = delete;
  ProviderScope& operator=(const ProviderScope&) = delete;

 private:
  std::string previous_;
};

bool provides_modules(const Registries& registries, const std::string& provider) {
  bool found = false;
  registries.for_each_kind([&](const auto& r) { found = found || r.provided_by(provider); });
  return found;
}

std::size_t module_count(const Registries& registries) {
  std::size_t n = 0;
  registries.for_each_kind([&](const auto& r) { n += r.size(); });
  return n;
}

}  // namespace

void load_plugin(const std::string& path, Registries& target) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error("plugin '" + path + "': no such file");
  const std::string file = fs::absolute(path).lexically_normal().string();
  if (provides_modules(target, file)) return;
  const std::string name = "plugin '" + file + "'";

  dlerror();
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();  // "invalid ELF header", "file too short", a missing library
    throw Error(name + " cannot be loaded as a shared object: " + (why ? why : "unknown reason"));
  }
  Library library(handle);
  auto abi = reinterpret_cast<AbiVersionFn>(library.symbol("weft_plugin_abi_version"));
  auto registration = reinterpret_cast<RegisterFn>(library.symbol("weft_plugin_register"));
  if (!abi || !registration)
    throw Error(name + " is not a weft plugin: it exports no weft_plugin_abi_version/weft_plugin_register "
                "(define them with WEFT_PLUGIN from weft/plugin.hpp)");
  if (const int built_for = abi(); built_for != abi_version) {
    auto release = reinterpret_cast<WeftVersionFn>(library.symbol("weft_plugin_weft_version"));
    throw Error(name + " was built for weft ABI version " + std::to_string(built_for) +
                (release ? std::string(" (weft ") + release() + ")" : std::string()) + " but this is weft " +
                version + " with ABI version " + std::to_string(abi_version) +
                ": rebuild the plugin against this weft");
  }

  {
    // The staged factories live in the plugin's code: they go before the library may close.
    Registries staged;
    try {
      ProviderScope scope(file);
      registration(&staged);
    } catch (const std::exception& e) {
      throw Error(name + " failed while registering its modules: " + e.what());
    } catch (...) {
      throw Error(name + " failed while registering its modules (a non-standard exception)");
    }
    if (module_count(staged) == 0) throw Error(name + " registers no module");
    try {
      target.merge(std::move(staged));
    } catch (const Error& e) {
      throw Error(name + ": " + e.what());
    }
  }
  library.release();
}

std::vector<std::string> plugin_files(std::string_view path_list) {
  std::vector<std::string> files;
  std::size_t begin = 0;
  while (begin <= path_list.size()) {
    const std::size_t end = std::min(path_list.find(':', begin), path_list.size());
    const std::string entry(path_list.substr(begin, end - begin));
    begin = end + 1;
    if (entry.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      std::vector<std::string> found;
      for (const auto& item : fs::directory_iterator(entry, ec))
        if (item.is_regular_file(ec) && item.path().extension() == ".so") found.push_back(item.path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(entry, ec)) {
      files.push_back(entry);
    } else {
      throw Error("WEFT_PLUGIN_PATH names '" + entry + "', which does not exist");
    }
  }
  return files;
}

void load_plugins_from_environment(Registries& target) {
  if (const char* list = std::getenv("WEFT_PLUGIN_PATH"))
    for (const auto& file : plugin_files(list)) load_plugin(file, target);
}

}  // namespace weft
