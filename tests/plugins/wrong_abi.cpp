// A plugin that claims another ABI version: weft must refuse it before calling its registration.
#include <stdexcept>

#include <weft/registry.hpp>
#include <weft/version.hpp>

extern "C" __attribute__((visibility("default"))) int weft_plugin_abi_version() { return WEFT_ABI_VERSION + 41; }
extern "C" __attribute__((visibility("default"))) const char* weft_plugin_weft_version() { return "99.1.0"; }
extern "C" __attribute__((visibility("default"))) void weft_plugin_register(weft::Registries*) {
  throw std::logic_error("the registration of a plugin with the wrong ABI version must never run");
}
