#include "weft/blas.hpp"

// OpenBLAS's header declares C99 _Complex types, which clang (fuzz builds) flags in C++.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wc99-extensions"
#endif
#include <cblas.h>
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

namespace weft {

void gemm(Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a == Trans::yes ? CblasTrans : CblasNoTrans,
              trans_b == Trans::yes ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta,
              c, ldc);
}

void use_single_threaded_blas() { openblas_set_num_threads(1); }

std::string blas_kernels() { return std::string("OpenBLAS ") + openblas_get_corename(); }

}  // namespace weft
