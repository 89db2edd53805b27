#pragma once
// The example plugin's modules, one file each; plugin.cpp registers them all.
#include <weft/registry.hpp>

namespace example {

void register_scaled_tanh(weft::Registries& registries);
void register_signum(weft::Registries& registries);

}  // namespace example
