#pragma once
// The one door to BLAS. Row-major GEMM: C = alpha · op(A) · op(B) + beta · C,
// op(A) is M×K, op(B) is K×N, C is M×N.
namespace weft {

enum class Trans { no, yes };

void gemm(Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);

// weft parallelises across shards on its own thread pool; BLAS must not start a second pool
// inside those tasks (two pools fighting over the same cores lose half the speed).
void use_single_threaded_blas();

}  // namespace weft
