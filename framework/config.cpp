#include "weft/config.hpp"

#include <cmath>

#include "weft/error.hpp"

namespace weft {

std::string describe(const Json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

bool Config::has(std::string_view key) const {
  auto it = values_.find(key);
  return it != values_.end() && !it->is_null();
}

const Json& Config::raw(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->is_null()) fail(key, "a value (it is required)");
  return *it;
}

void Config::fail(std::string_view key, std::string_view expected) const {
  auto it = values_.find(key);
  const std::string got = (it == values_.end() || it->is_null()) ? "nothing" : describe(*it);
  throw SpecError(context_ + ": '" + std::string(key) + "' must be " + std::string(expected) + ", got " + got);
}

std::int64_t Config::integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  const Json& v = raw(key);
  std::string expected = "an integer";
  if (min != std::numeric_limits<std::int64_t>::min()) expected += " >= " + std::to_string(min);
  if (max != std::numeric_limits<std::int64_t>::max()) expected += " <= " + std::to_string(max);
  if (!v.is_number_integer()) fail(key, expected);
  const auto x = v.get<std::int64_t>();
  if (x < min || x > max) fail(key, expected);
  return x;
}

double Config::number(std::string_view key, double min, double max, bool exclusive_min) const {
  const Json& v = raw(key);
  std::string expected = "a number";
  if (std::isfinite(min)) expected += (exclusive_min ? " > " : " >= ") + describe(min);
  if (std::isfinite(max)) expected += std::string(std::isfinite(min) ? " and" : "") + " <= " + describe(max);
  if (!v.is_number()) fail(key, expected);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max || (exclusive_min && x == min)) fail(key, expected);
  return x;
}

bool Config::boolean(std::string_view key) const {
  const Json& v = raw(key);
  if (!v.is_boolean()) fail(key, "true or false");
  return v.get<bool>();
}

std::string Config::string(std::string_view key) const {
  const Json& v = raw(key);
  if (!v.is_string()) fail(key, "a string");
  return v.get<std::string>();
}

std::string Config::choice(std::string_view key, std::initializer_list<std::string_view> allowed) const {
  std::string expected = "one of";
  for (auto a : allowed) expected += " \"" + std::string(a) + "\"";
  const Json& v = raw(key);
  if (!v.is_string()) fail(key, expected);
  const auto s = v.get<std::string>();
  for (auto a : allowed)
    if (s == a) return s;
  fail(key, expected);
}

std::vector<std::int64_t> Config::integers(std::string_view key, std::size_t count, std::int64_t min) const {
  const Json& v = raw(key);
  const std::string expected = "an integer >= " + std::to_string(min) + " or a list of " +
                               std::to_string(count) + " such integers";
  std::vector<std::int64_t> out;
  if (v.is_number_integer()) {
    out.assign(count, v.get<std::int64_t>());
  } else if (v.is_array() && v.size() == count) {
    for (const auto& e : v) {
      if (!e.is_number_integer()) fail(key, expected);
      out.push_back(e.get<std::int64_t>());
    }
  } else {
    fail(key, expected);
  }
  for (auto x : out)
    if (x < min) fail(key, expected);
  return out;
}

}  // namespace weft
