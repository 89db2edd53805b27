#pragma once
// Writing a weft plugin: a shared object that registers modules into the same registry as the
// built-ins. One source file of the plugin says
//
//   #include <weft/plugin.hpp>
//
//   WEFT_PLUGIN(registries) {
//     registries.layers.add({"scaled_tanh", "y = alpha * tanh(x)", {{"alpha_init", "ones"}},
//                            [](const weft::Config& c) { return std::make_unique<ScaledTanh>(c); }});
//   }
//
// and the plugin is built as a Meson shared_module with dependency('weft'). weft loads it with
// `--plugin path/libfoo.so` or through WEFT_PLUGIN_PATH (weft/plugins.hpp does it for a program).
//
// The macro exports three C functions: the ABI version and weft release the plugin was compiled
// against (weft refuses a plugin built for another ABI version before running any of its code)
// and the registration function. Register into the `registries` argument only: weft stages what
// a plugin registers and merges it into the process registry only when all of it fits, so a
// plugin that throws or reuses a taken name changes nothing.
#include "weft/registry.hpp"
#include "weft/version.hpp"

// Makes a function visible in the plugin's shared object under its plain C name, so weft can
// look it up with dlsym().
#define WEFT_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

// Defines the plugin's entry points (see above); the braces that follow are the body of the
// registration function, with `registries` the Registries to add the plugin's modules to.
#define WEFT_PLUGIN(registries)                                                                    \
  static void weft_plugin_register_modules(::weft::Registries& registries);                        \
  WEFT_PLUGIN_EXPORT int weft_plugin_abi_version() { return WEFT_ABI_VERSION; }                    \
  WEFT_PLUGIN_EXPORT const char* weft_plugin_weft_version() { return WEFT_VERSION; }               \
  WEFT_PLUGIN_EXPORT void weft_plugin_register(::weft::Registries* target) {                       \
    weft_plugin_register_modules(*target);                                                         \
  }                                                                                                \
  static void weft_plugin_register_modules(::weft::Registries& registries)
