// A plugin that registers nothing: almost certainly a mistake, so an error.
#include <weft/plugin.hpp>

WEFT_PLUGIN(registries) { (void)registries; }
