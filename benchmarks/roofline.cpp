// roofline: the limits a training step is measured against, taken in the same run as the step
// (benchmarks/compare runs it): the FMA peak, OpenBLAS sgemm at 1024³, and sgemm at the GEMM
// shapes of each model's training step, on each thread count. For a model, "sgemm bound" is the
// rate at which OpenBLAS alone would do all of one shard's training GEMMs: their FLOPs over the
// sum of their times at the measured rates. Every figure is the median of several measurements.
//
// Usage: roofline [--quick] [--json] [--threads=1,2] [--shard=S] [MODEL.json...]
// (S: the shard size training at batch 128 takes by default on this machine, unless given)
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "machine_limits.hpp"
#include "model_work.hpp"
#include "weft/blas.hpp"
#include "weft/trainer.hpp"

namespace {

using weft::Json;

struct Settings {
  bool quick = false, json = false;
  std::vector<int> threads = {1, 2};
  std::int64_t shard = weft::default_shard_size(128);
  std::vector<std::string> models;
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") s.quick = true;
    else if (arg == "--json") s.json = true;
    else if (arg.starts_with("--shard=")) s.shard = std::stoll(arg.substr(8));
    else if (arg.starts_with("--threads=")) {
      s.threads.clear();
      for (std::size_t at = 10; at < arg.size();) {
        const std::size_t comma = std::min(arg.find(',', at), arg.size());
        s.threads.push_back(std::stoi(arg.substr(at, comma - at)));
        at = comma + 1;
      }
    } else if (arg.starts_with("--")) throw weft::Error("roofline: unknown option " + arg);
    else s.models.push_back(arg);
  }
  return s;
}

template <class F>
double median_of(int repetitions, F&& measure) {
  std::vector<double> v;
  for (int i = 0; i < repetitions; ++i) v.push_back(measure());
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) try {
  const Settings s = parse(argc, argv);
  const int repetitions = s.quick ? 3 : 5;
  const double seconds = s.quick ? 0.05 : 0.15;  // per measurement
  Json out = {{"fma", {{"isa", weft::bench::fma_isa()}, {"gflops", Json::object()}}},
              {"sgemm_1024", Json::object()}, {"blas", weft::blas_kernels()}, {"shard", s.shard}, {"models", Json::object()}};
  for (int t : s.threads) {
    const std::string key = std::to_string(t);
    out["fma"]["gflops"][key] = median_of(repetitions, [&] { return weft::bench::fma_gflops(t, seconds); });
    out["sgemm_1024"][key] =
        median_of(repetitions, [&] { return weft::bench::sgemm_gflops(1024, 1024, 1024, t, 2 * seconds); });
  }
  for (const std::string& file : s.models) {
    const weft::Model model(weft::read_spec_file(file));
    const std::string name = std::filesystem::path(file).stem().string();  // fashion_mlp.json: "fashion_mlp"
    const weft::bench::ModelWork work = weft::bench::model_work(model, s.shard);
    Json m = {{"forward_flops", work.forward_flops}, {"training_flops", work.training_flops},
              {"gemms", Json::array()}, {"sgemm_bound", Json::object()}};
    std::map<std::string, double> gemm_seconds;  // per thread count: all GEMMs at measured rates
    std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, int>, double> measured;  // groups repeat shapes
    double gemm_flops = 0;
    for (const auto& g : work.training_gemms) {
      Json row = {{"what", g.what}, {"m", g.m}, {"n", g.n}, {"k", g.k}, {"gflops", Json::object()}};
      for (int t : s.threads) {
        auto [at, fresh] = measured.try_emplace({g.m, g.n, g.k, t}, 0.0);
        if (fresh)
          at->second = median_of(repetitions, [&] { return weft::bench::sgemm_gflops(g.m, g.n, g.k, t, seconds); });
        row["gflops"][std::to_string(t)] = at->second;
        gemm_seconds[std::to_string(t)] += g.flops() / (at->second * 1e9);
      }
      gemm_flops += g.flops();
      m["gemms"].push_back(row);
    }
    for (const auto& [t, total] : gemm_seconds) m["sgemm_bound"][t] = gemm_flops / total * 1e-9;
    out["models"][name] = m;
  }

  if (s.json) {
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
  }
  std::printf("FMA peak (%s), GFLOP/s:", out["fma"]["isa"].get<std::string>().c_str());
  for (const auto& [t, v] : out["fma"]["gflops"].items()) std::printf("  %s thread(s) %.1f", t.c_str(), v.get<double>());
  std::printf("\nsgemm 1024³ (%s), GFLOP/s:", out["blas"].get<std::string>().c_str());
  for (const auto& [t, v] : out["sgemm_1024"].items()) std::printf("  %s thread(s) %.1f", t.c_str(), v.get<double>());
  std::printf("\n");
  for (const auto& [name, m] : out["models"].items()) {
    std::printf("%s: %.2f MFLOP per sample trained, %.2f inferred; sgemm bound at shard %lld:", name.c_str(),
                m["training_flops"].get<double>() * 1e-6, m["forward_flops"].get<double>() * 1e-6,
                static_cast<long long>(s.shard));
    for (const auto& [t, v] : m["sgemm_bound"].items()) std::printf("  %s thread(s) %.1f", t.c_str(), v.get<double>());
    std::printf("\n");
    for (const auto& g : m["gemms"]) {
      std::printf("  %-28s %6lld × %5lld × %5lld:", g["what"].get<std::string>().c_str(), g["m"].get<long long>(),
                  g["n"].get<long long>(), g["k"].get<long long>());
      for (const auto& [t, v] : g["gflops"].items()) std::printf("  %s: %.1f", t.c_str(), v.get<double>());
      std::printf("\n");
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "roofline: %s\n", e.what());
  return 1;
}
