#pragma once
// Loading plugins at run time (the `weft` command does it for `--plugin` and WEFT_PLUGIN_PATH;
// a program that embeds weft calls these itself). See weft/plugin.hpp for writing one.
#include <string>
#include <string_view>
#include <vector>

#include "weft/registry.hpp"

namespace weft {

// Opens the shared object at `path`, checks that it is a weft plugin built for this ABI version,
// lets it register into a staging Registries and merges that into `target` only when every name
// is free. Any failure throws Error with one line naming the file and the reason, and leaves
// `target` unchanged. Loading a plugin that already provides modules to `target` does nothing.
// The module's provider is the file's absolute path.
void load_plugin(const std::string& path, Registries& target = registry());

// The plugin files named by a colon-separated list (the WEFT_PLUGIN_PATH syntax): a file stands
// for itself, a folder for every "*.so" file in it (sorted by name). Empty entries are ignored;
// an entry that does not exist is an Error.
std::vector<std::string> plugin_files(std::string_view path_list);

// Loads every plugin named by the WEFT_PLUGIN_PATH environment variable, if it is set.
void load_plugins_from_environment(Registries& target = registry());

}  // namespace weft
