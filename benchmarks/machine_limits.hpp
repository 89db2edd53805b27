#pragma once
// The machine's arithmetic limits, measured rather than looked up: the FMA peak (independent FMA
// chains on the widest vector unit the CPU has) and OpenBLAS sgemm throughput at given shapes.
// "On t threads" means t copies running at once on their own data, each single-threaded, which
// is how weft runs its shards (one task per shard, single-threaded BLAS inside).
#include <cstdint>
#include <functional>
#include <string>

namespace weft::bench {

// Runs body(thread index) on `threads` threads released together; returns the wall-clock seconds
// until the last one finishes.
double seconds_on_threads(int threads, const std::function<void(int)>& body);

// "avx512 zmm" or "avx2 ymm": the widest FMA this CPU runs (AVX2 + FMA is required).
std::string fma_isa();
// FMA GFLOP/s on `threads` threads over about `seconds` of running.
double fma_gflops(int threads, double seconds);

// sgemm C = A·B (row-major, m×k times k×n) GFLOP/s on `threads` threads, over about `seconds`
// after one warm-up call.
double sgemm_gflops(std::int64_t m, std::int64_t n, std::int64_t k, int threads, double seconds);

}  // namespace weft::bench
