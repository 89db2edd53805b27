#include "layers/conv/conv_settings.hpp"

namespace weft::builtin {

ConvSettings read_conv_settings(const Config& c, std::string type, std::size_t fixed_dims, std::size_t max_dims,
                                bool allow_same) {
  ConvSettings s{std::move(type),
                 read_window_settings(c, read_dims(c, fixed_dims, max_dims), allow_same, false),
                 c.integer("filters", 1),
                 c.integer("groups", 1),
                 c.boolean("bias"),
                 c.raw("init"),
                 c.raw("bias_init")};
  if (s.filters % s.groups != 0) c.fail("groups", "a divisor of filters (" + std::to_string(s.filters) + ")");
  return s;
}

std::vector<ParamDecl> conv_parameters(const ConvSettings& s, std::int64_t rows, std::int64_t cols) {
  std::vector<ParamDecl> p{{"weight", kernel_shape(rows, cols, s.window.kernel, s.window.dims), s.init, false}};
  if (s.bias) p.push_back({"bias", Shape{s.filters}, s.bias_init, true});
  return p;
}

void check_conv_input(const ConvSettings& s, const Shape& input) {
  require_channels_first(input, s.window.dims, s.type);
  if (input[0] % s.groups != 0)
    throw ShapeError(s.type + " with groups = " + std::to_string(s.groups) + " needs input channels divisible by " +
                     std::to_string(s.groups) + ", got " + std::to_string(input[0]) + " channels");
}

void register_conv_family(Registries& r, const std::string& prefix, std::size_t max_dims, const std::string& what,
                          const Json& extra_defaults, const ConvFactory& make) {
  Json defaults = {{"filters", nullptr}, {"kernel", nullptr}, {"stride", 1},          {"padding", 0},
                   {"dilation", 1},      {"groups", 1},       {"bias", true},         {"init", "he_uniform"},
                   {"bias_init", "zeros"}};
  defaults.update(extra_defaults);
  for (std::size_t dims = 1; dims <= 3; ++dims) {
    const std::string name = prefix + std::to_string(dims) + "d";
    r.layers.add({name, std::to_string(dims) + "-d " + what, defaults,
                  [make, name, dims](const Config& c) { return make(c, name, dims); }});
  }
  Json generic = defaults;
  generic["dims"] = nullptr;
  r.layers.add({prefix, what + " over \"dims\" (1.." + std::to_string(max_dims) + ") spatial axes", generic,
                [make, prefix](const Config& c) { return make(c, prefix, 0); }});
}

}  // namespace weft::builtin
