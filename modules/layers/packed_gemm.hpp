#pragma once
// weft's own single-precision GEMM for the dense layers and the column-matrix convolutions
// (conv_ops.hpp), on the widest vector set the CPU has (layers/vector_isa.hpp), whatever kernels
// OpenBLAS was told to use.
//
// Why not OpenBLAS: its kernel is picked when it loads, and OPENBLAS_CORETYPE (often set on
// shared servers) can pin it to AVX2 on an AVX-512 CPU, where it then runs the dense layers at
// about half the machine. This one multiplies in register tiles of 8 rows × 48 columns, the
// shape of the convolution's window tiles, from op(A) packed into panels of 8 rows and op(B)
// read where it lies when it is k-major already (packed into panels of 48 columns when not).
//
// Its result is defined exactly: every element of C is one chain of fused multiply-adds in
// ascending k, starting from +0 (beta = 0) or from C's old value (beta = 1). The AVX-512, AVX2
// and portable versions compute that same chain (they differ only in how many elements they
// carry at once), so they give the same bits, and so does any thread count: a call runs on the
// calling thread alone.
#include <cstddef>
#include <span>

#include "weft/blas.hpp"

namespace weft::builtin {

// Floats of scratch packed_gemm needs for these sizes (the packed panels of the operands).
std::size_t packed_gemm_scratch(int m, int n, int k);

// C = op(A) · op(B) + beta · C, row-major as weft::gemm (blas.hpp), for beta 0 or 1 only
// (with beta = 0, C is not read). `scratch` holds packed_gemm_scratch(m, n, k) floats.
void packed_gemm(Trans trans_a, Trans trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                 float beta, float* c, int ldc, float* scratch);

// Rows of a product whose op(B) other rows share: C = op(A) · op(B) + beta · C over m rows.
struct GemmRows {
  int m;
  const float* a;
  int lda;
  float* c;
  int ldc;
};

// packed_gemm for each block of rows against the same op(B) (n columns, depth k), with the same
// bits as one call per block, but op(B) transposed and packed once for all of them: for a dense
// layer's weight against a shard of 64 samples that packing costs about a tenth of the product.
// `scratch` holds packed_gemm_scratch(largest m, n, k) floats.
void packed_gemm_rows(Trans trans_a, Trans trans_b, std::span<const GemmRows> blocks, int n, int k, const float* b,
                      int ldb, float beta, float* scratch);

}  // namespace weft::builtin
