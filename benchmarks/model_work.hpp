#pragma once
// The arithmetic a model's training step and inference pass must do, counted analytically from
// its dense and convolution layers (2 FLOPs per multiply-add; bias, activations, pooling, the loss
// and the update are left out: they are memory-bound and small next to the products), and the
// matrix products (GEMM shapes) that work amounts to when a shard of samples is lowered to BLAS
// (im2col for convolutions). The benchmarks turn times into GFLOP/s with these counts, and the
// roofline probe measures OpenBLAS at these shapes: what a BLAS-based step could reach.
#include <cstdint>
#include <string>
#include <vector>

#include "weft/model.hpp"

namespace weft::bench {

struct Gemm {
  std::string what;  // "conv2d_0 forward", "dense_3 weight gradient", ...
  std::int64_t m = 0, n = 0, k = 0;  // C (m×n) = A (m×k) · B (k×n)
  double flops() const { return 2.0 * double(m) * double(n) * double(k); }
};

struct ModelWork {
  double forward_flops = 0;   // per sample
  // Per sample: forward, weight gradient and input gradient (3× forward) for every layer with
  // weights, except that the first such layer computes no input gradient (2× forward).
  double training_flops = 0;
  std::vector<Gemm> training_gemms;  // one shard's training step, in layer order
};

ModelWork model_work(const Model& model, std::int64_t shard_size);

}  // namespace weft::bench
