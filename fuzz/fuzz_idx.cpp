// libFuzzer target: the IDX reader (plain and gzip) must reject any malformed file with a
// weft::IoError, never crash, hang or read out of bounds.
#include "fuzz_input.hpp"
#include "weft/error.hpp"
#include "weft/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = weft::fuzz::write_input(data, size, ".idx");
  try {
    unsigned char type = 0;
    (void)weft::io::read_idx(path, &type);
  } catch (const weft::Error&) {
  }
  return 0;
}
