#pragma once
// What conv and conv_transpose share: their settings, the input check, the registration of a
// family of names (<prefix>1d, 2d, 3d and <prefix> with "dims").
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/conv/geometry.hpp"
#include "weft/registry.hpp"

namespace weft::builtin {

struct ConvSettings {
  std::string type;  // the registered name, for messages
  WindowSettings window;
  std::int64_t filters = 0, groups = 1;
  bool bias = true;
  Json init, bias_init;
};

// Reads filters, groups (a divisor of filters), bias, init, bias_init and the window settings
// ("same" padding only when `allow_same`); the dims are `fixed_dims`, or "dims" (1..max_dims).
ConvSettings read_conv_settings(const Config& c, std::string type, std::size_t fixed_dims, std::size_t max_dims,
                                bool allow_same);

// The parameters both layers declare: weight (rows, cols, kernel...) and, with bias, bias
// (filters). conv passes (filters, in_channels / groups), conv_transpose (in_channels, filters / groups).
std::vector<ParamDecl> conv_parameters(const ConvSettings& s, std::int64_t rows, std::int64_t cols);

// Throws ShapeError unless `input` is (channels, spatial...) with channels divisible by groups.
void check_conv_input(const ConvSettings& s, const Shape& input);

using ConvFactory = std::function<std::unique_ptr<Layer>(const Config&, const std::string& type, std::size_t dims)>;

// Registers <prefix>1d, <prefix>2d, <prefix>3d and <prefix> (with a required "dims", 1..max_dims);
// every key has its default, `extra_defaults` adds the family's own keys.
void register_conv_family(Registries& r, const std::string& prefix, std::size_t max_dims, const std::string& what,
                          const Json& extra_defaults, const ConvFactory& make);

}  // namespace weft::builtin
