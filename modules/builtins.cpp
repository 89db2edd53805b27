// Registers the built-in modules explicitly, from one list, when the registry is first used.
// Static self-registration objects would be dropped by a linker that sees nothing reference
// them (a static libweft); an explicit call cannot be.
#include "weft/registry.hpp"

namespace weft::builtin {
#define WEFT_BUILTIN(id) void register_##id(Registries& registries);
#include "builtin_list.inc"
#undef WEFT_BUILTIN
}  // namespace weft::builtin

namespace weft {

void register_builtins(Registries& registries) {
#define WEFT_BUILTIN(id) builtin::register_##id(registries);
#include "builtin_list.inc"
#undef WEFT_BUILTIN
}

}  // namespace weft
