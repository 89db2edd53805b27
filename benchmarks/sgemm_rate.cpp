// OpenBLAS sgemm throughput at a given shape, each thread single-threaded on its own matrices,
// and the helper that starts measured threads together.
#include <cblas.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <thread>
#include <vector>

#include "machine_limits.hpp"

namespace weft::bench {

double seconds_on_threads(int threads, const std::function<void(int)>& body) {
  std::barrier start(threads + 1);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      start.arrive_and_wait();
      body(t);
    });
  start.arrive_and_wait();
  const auto begin = std::chrono::steady_clock::now();
  for (auto& w : workers) w.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

double sgemm_gflops(std::int64_t m, std::int64_t n, std::int64_t k, int threads, double seconds) {
  openblas_set_num_threads(1);
  struct Operands {
    std::vector<float> a, b, c;
  };
  std::vector<Operands> data(static_cast<std::size_t>(threads));
  for (auto& d : data) {
    d.a.assign(static_cast<std::size_t>(m * k), 0.5f);
    d.b.assign(static_cast<std::size_t>(k * n), 0.25f);
    d.c.assign(static_cast<std::size_t>(m * n), 0.0f);
  }
  const auto product = [&](Operands& d) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, d.a.data(), int(k), d.b.data(),
                int(n), 0.0f, d.c.data(), int(n));
  };
  // Calls that take about `seconds`, from a timed warm-up call.
  const auto start = std::chrono::steady_clock::now();
  product(data[0]);
  const double one = std::max(1e-7, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  const auto calls = std::max<std::int64_t>(1, static_cast<std::int64_t>(seconds / one));
  const double wall = seconds_on_threads(threads, [&](int t) {
    for (std::int64_t i = 0; i < calls; ++i) product(data[static_cast<std::size_t>(t)]);
  });
  return 2.0 * double(m) * double(n) * double(k) * double(calls) * threads / wall * 1e-9;
}

}  // namespace weft::bench
