#pragma once
// Config: one module's settings (the spec's keys merged over the module's declared defaults),
// with typed accessors whose errors name the module and the key, e.g.
//
//   layer 2 (dense): 'units' must be an integer >= 1, got "ten"
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

using Json = nlohmann::json;  // specs, settings and states are nlohmann::json values

// A module's resolved settings and where they come from. Every accessor throws a SpecError for a
// missing, null or ill-typed value, naming the context, the key, what it must be and what it is
// (the example above).
class Config {
 public:
  // `context` names the module in messages, e.g. "layer 2 (dense)"; `values` are its settings.
  Config(std::string context, Json values) : context_(std::move(context)), values_(std::move(values)) {}

  // "layer 2 (dense)": where this configuration sits in the spec.
  const std::string& context() const { return context_; }
  // Every key with its value (defaults filled in): what rebuilds the module.
  const Json& json() const { return values_; }

  // True when the key is present and not null.
  bool has(std::string_view key) const;

  // A JSON integer in [min, max] (a float such as 3.0 is refused).
  std::int64_t integer(std::string_view key, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  // A number in [min, max]; with `exclusive_min` in (min, max].
  double number(std::string_view key, double min = -std::numeric_limits<double>::infinity(),
                double max = std::numeric_limits<double>::infinity(), bool exclusive_min = false) const;
  bool boolean(std::string_view key) const;        // true or false, nothing else
  std::string string(std::string_view key) const;  // a JSON string
  // A string that must be one of `allowed`.
  std::string choice(std::string_view key, std::initializer_list<std::string_view> allowed) const;
  // `count` integers >= min: either one number (repeated) or an array of exactly `count`.
  std::vector<std::int64_t> integers(std::string_view key, std::size_t count, std::int64_t min) const;
  // The value as it is, for settings of any form; throws only when it is missing or null.
  const Json& raw(std::string_view key) const;

  // Throws the SpecError above for `key`: what a module calls when a value that type-checks is
  // still wrong, e.g. fail("rate", "a drop probability in [0, 1)").
  [[noreturn]] void fail(std::string_view key, std::string_view expected) const;

 private:
  std::string context_;
  Json values_;
};

// A JSON value as a short string for error messages (long values are cut).
std::string describe(const Json& value);

}  // namespace weft
