#include "layers/vector_isa.hpp"

#include <atomic>

namespace weft::builtin {
namespace {

VectorIsa widest_supported() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return VectorIsa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return VectorIsa::avx2;
#endif
  return VectorIsa::portable;
}

const VectorIsa supported = widest_supported();
std::atomic<VectorIsa> in_use{supported};

}  // namespace

VectorIsa vector_isa() { return in_use.load(std::memory_order_relaxed); }

void limit_vector_isa(VectorIsa widest) { in_use.store(widest < supported ? widest : supported); }

}  // namespace weft::builtin
