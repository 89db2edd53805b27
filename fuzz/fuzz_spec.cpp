// libFuzzer target: model specs. Any JSON must either build a model or raise a weft::Error
// (SpecError, ShapeError) naming the problem. Models whose tensors would be huge are skipped by
// the size cap below, so the fuzzer explores the checks rather than the allocator.
#include <string_view>

#include "weft/error.hpp"
#include "weft/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const weft::Json spec = weft::Json::parse(text, nullptr, false);
  if (spec.is_discarded()) return 0;
  try {
    weft::Model model(spec);
    if (model.parameter_count() < (1u << 20)) model.initialize(1);
    (void)model.summary();
  } catch (const weft::Error&) {
  }
  return 0;
}
