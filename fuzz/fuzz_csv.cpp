// libFuzzer target: the CSV dataset reader, as a classification and as a regression dataset.
#include <string_view>

#include "weft/error.hpp"
#include "weft/io/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool regression : {false, true}) {
    try {
      weft::io::CsvOptions options;
      options.regression = regression;
      (void)weft::io::parse_csv(text, "fuzz.csv", options);
    } catch (const weft::Error&) {
    }
  }
  return 0;
}
