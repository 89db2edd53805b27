#pragma once
// Validators for numeric options, named as CLI11's (the help shows INT:POSITIVE, FLOAT:NONNEGATIVE),
// whose errors read "--epochs: expected a number > 0, got 0" where CLI11's own print the range
// up to the largest double in 300 digits. Infinity and NaN are refused too.
#include <CLI/CLI.hpp>

#include <cmath>
#include <string>

namespace weft::cli {

inline CLI::Validator number_check(const std::string& name, bool zero_allowed) {
  const std::string expected = zero_allowed ? "a number >= 0" : "a number > 0";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value) || value < 0 || (value == 0 && !zero_allowed))
          return "expected " + expected + ", got " + text;
        return {};
      },
      name, name);
}

inline const CLI::Validator positive_number = number_check("POSITIVE", false);
inline const CLI::Validator non_negative_number = number_check("NONNEGATIVE", true);

}  // namespace weft::cli
