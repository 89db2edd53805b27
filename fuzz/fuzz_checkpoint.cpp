// libFuzzer target: the checkpoint loader (and through it the model-file reader) on arbitrary
// bytes. Start it from a real checkpoint in the corpus so mutations reach the HDF5 structures.
#include "fuzz_input.hpp"
#include "weft/error.hpp"
#include "weft/io/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = weft::fuzz::write_input(data, size, ".h5");
  try {
    (void)weft::io::load_checkpoint(path);
  } catch (const weft::Error&) {
  }
  return 0;
}
