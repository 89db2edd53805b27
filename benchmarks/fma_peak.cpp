// The FMA peak: many independent chains of vfmadd231ps (acc += b·c), enough of them to cover the
// instruction's latency on every FMA port (latency 4–5 cycles × 2 ports), so the loop is bound by
// throughput alone. Each kernel is compiled for its instruction set with a target attribute and
// chosen at run time, so the program runs on any x86-64 CPU with AVX2. The two kernels are the
// same loop at two register widths, written out twice because the intrinsics differ by name and
// each must sit in a function compiled for its target.
#include <immintrin.h>

#include <chrono>
#include <vector>

#include "machine_limits.hpp"

namespace weft::bench {
namespace {

constexpr int chains = 14;  // 14 accumulators + b + c: all 16 ymm registers of AVX2

// Returns the sum of the accumulators so the loop cannot be dropped.
__attribute__((target("avx2,fma"))) float fma_loop_ymm(std::int64_t iterations) {
  const __m256 b = _mm256_set1_ps(1e-4f), c = _mm256_set1_ps(1e-4f);
  __m256 acc[chains];
  for (auto& a : acc) a = _mm256_set1_ps(1.0f);
  for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 14
    for (int j = 0; j < chains; ++j) acc[j] = _mm256_fmadd_ps(b, c, acc[j]);
  }
  __m256 sum = acc[0];
  for (int j = 1; j < chains; ++j) sum = _mm256_add_ps(sum, acc[j]);
  return _mm256_cvtss_f32(sum);
}

__attribute__((target("avx512f"))) float fma_loop_zmm(std::int64_t iterations) {
  const __m512 b = _mm512_set1_ps(1e-4f), c = _mm512_set1_ps(1e-4f);
  __m512 acc[chains];
  for (auto& a : acc) a = _mm512_set1_ps(1.0f);
  for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 14
    for (int j = 0; j < chains; ++j) acc[j] = _mm512_fmadd_ps(b, c, acc[j]);
  }
  __m512 sum = acc[0];
  for (int j = 1; j < chains; ++j) sum = _mm512_add_ps(sum, acc[j]);
  // Summed through memory: GCC 12 warns inside _mm512_reduce_add_ps (an undefined helper vector).
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (float lane : lanes) total += lane;
  return total;
}

bool has_avx512() { return __builtin_cpu_supports("avx512f"); }

float fma_loop(std::int64_t iterations) { return has_avx512() ? fma_loop_zmm(iterations) : fma_loop_ymm(iterations); }

double flops_per_iteration() { return 2.0 * chains * (has_avx512() ? 16 : 8); }

volatile float sink;

}  // namespace

std::string fma_isa() { return has_avx512() ? "avx512 zmm" : "avx2 ymm"; }

double fma_gflops(int threads, double seconds) {
  // Calibrate on one thread: iterations that take about `seconds`.
  std::int64_t iterations = 1 << 16;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    sink = fma_loop(iterations);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (took > seconds / 4) {
      iterations = static_cast<std::int64_t>(double(iterations) * seconds / took);
      break;
    }
    iterations *= 4;
  }
  const double wall = seconds_on_threads(threads, [&](int) { sink = fma_loop(iterations); });
  return flops_per_iteration() * double(iterations) * threads / wall * 1e-9;
}

}  // namespace weft::bench
