#pragma once
// The one door to BLAS. Row-major GEMM: C = alpha · op(A) · op(B) + beta · C,
// op(A) is M×K, op(B) is K×N, C is M×N.
#include <string>

namespace weft {

// Whether gemm() reads an operand transposed: op(X) = X (no) or Xᵀ (yes).
enum class Trans { no, yes };

// cblas_sgemm in row-major order: C = alpha · op(A) · op(B) + beta · C, where lda, ldb and ldc
// are the row strides (in floats) of A, B and C as stored (A is M×K stored, or K×M with
// trans_a). With beta = 0, C is not read, so it may hold garbage (even NaN).
void gemm(Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);

// weft parallelises across shards on its own thread pool; BLAS must not start a second pool
// inside those tasks (two pools fighting over the same cores lose half the speed).
void use_single_threaded_blas();

// The BLAS kernels in use, e.g. "OpenBLAS Haswell": OpenBLAS picks them for the CPU when it loads,
// unless OPENBLAS_CORETYPE names others. Benchmarks print it next to sgemm rates, which it decides.
std::string blas_kernels();

}  // namespace weft
