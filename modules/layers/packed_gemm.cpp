// packed_gemm (packed_gemm.hpp): op(A) is packed into panels of 8 rows, k-major, zero-padded
// past the matrix edge; a register tile multiplies one of them with 48 columns of op(B), read
// where it lies when B is not transposed (its rows are k-major already: packing them only copied
// them) and from panels packed the same way when it is. The tiles load B's last vector of a row masked, so a B read in place is never
// read past its last column. The packed layout is the same for every vector set.
#include "layers/packed_gemm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "layers/conv/window_kernels.hpp"
#include "layers/vector_isa.hpp"
#include "weft/error.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WEFT_GEMM_X86 1
#endif

namespace weft::builtin {
namespace {

constexpr int panel_rows = 8, panel_cols = 48;
// Blocks of C computed per packing: a 48-column panel of B (kc × 48 floats, ≤ 48 KiB) stays in
// L1 while every row panel of A streams past it from L2.
constexpr int max_depth = 256, max_rows = 128, max_cols = 1536;

int round_up(int v, int to) { return (v + to - 1) / to * to; }

// K split into equal blocks of at most max_depth, each a multiple of 8 but the last (so the
// transposing packs run on whole 8 × 8 blocks). The split does not change the result: a tile
// leaves its partial sums in C and the next block continues the same chains from there.
int depth_block(int k) {
  const int blocks = (k + max_depth - 1) / max_depth;
  return round_up((k + blocks - 1) / blocks, 8);
}

// dst[t · width + r] = src[r · ld + t] for r < valid, 0 for valid ≤ r < width, t < depth: rows
// of the source interleaved into one panel. Whole 8 × 8 blocks go through transpose_blocks; only
// the rest is copied element by element.
void pack_transposed(const float* src, int ld, int valid, int width, int depth, float* dst) {
  const int block_rows = valid & ~7, block_depth = depth & ~7;
  if (block_rows > 0 && block_depth > 0) transpose_blocks(src, ld, block_rows, block_depth, dst, width);
  for (int t = 0; t < depth; ++t)
    for (int r = t < block_depth ? block_rows : 0; r < width; ++r)
      dst[t * width + r] = r < valid ? src[r * ld + t] : 0.0f;
}

// dst[t · Width + j] = src[t · ld + j] for j < valid, 0 past it: one panel of contiguous rows. A
// whole row is a copy of constant size, inlined (a memcpy call per 8 floats cost more than it).
template <int Width>
void pack_rows(const float* src, int ld, int valid, int depth, float* dst) {
  for (int t = 0; t < depth; ++t, dst += Width, src += ld) {
    if (valid == Width) {
      std::memcpy(dst, src, sizeof(float) * Width);
    } else {
      std::copy_n(src, valid, dst);
      std::fill(dst + valid, dst + Width, 0.0f);
    }
  }
}

// op(A)[i0 .. i0 + rows, p0 .. p0 + depth] into panels of panel_rows.
void pack_a(Trans trans, const float* a, int lda, int i0, int rows, int p0, int depth, float* dst) {
  for (int i = 0; i < rows; i += panel_rows, dst += panel_rows * depth) {
    const int valid = std::min(panel_rows, rows - i);
    if (trans == Trans::no)
      pack_transposed(a + static_cast<std::ptrdiff_t>(i0 + i) * lda + p0, lda, valid, panel_rows, depth, dst);
    else
      pack_rows<panel_rows>(a + static_cast<std::ptrdiff_t>(p0) * lda + i0 + i, lda, valid, depth, dst);
  }
}

// Bᵀ[p0 .. p0 + depth, j0 .. j0 + cols] into panels of panel_cols (a B that is not transposed
// is read in place instead).
void pack_b_transposed(const float* b, int ldb, int p0, int depth, int j0, int cols, float* dst) {
  for (int j = 0; j < cols; j += panel_cols, dst += panel_cols * depth)
    pack_transposed(b + static_cast<std::ptrdiff_t>(j0 + j) * ldb + p0, ldb, std::min(panel_cols, cols - j),
                    panel_cols, depth, dst);
}

// A tile: C[r, j] for r < rows, j < cols (at most 8 × 48) continues its chain over `depth`
// packed k from C (`load`) or from +0; B's rows are b_step floats apart. Rows of the panel past
// `rows` are computed and dropped. A B read in place (`b_in_place`) may end at `cols`: the last
// vector of its rows is then loaded masked (only then: masked loads in the loop cost speed).
using TileFn = void (*)(const float* a, const float* b, int b_step, bool b_in_place, int depth, int rows, int cols,
                       float* c, int ldc, bool load);

// ---- portable: the definition, element by element ---------------------------------------------
void tile_portable(const float* a, const float* b, int b_step, bool /*b_in_place*/, int depth, int rows, int cols,
                   float* c, int ldc, bool load) {
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) {
      float acc = load ? c[r * ldc + j] : 0.0f;
      for (int t = 0; t < depth; ++t) acc = std::fma(a[t * panel_rows + r], b[t * b_step + j], acc);
      c[r * ldc + j] = acc;
    }
}

#ifdef WEFT_GEMM_X86
// The accumulators are named variables, not arrays: GCC keeps an array of vectors in memory
// (window_kernels.cpp measured half the speed).

// ---- AVX2 + FMA: a tile as four 4 × 24 quarters, 12 accumulators each -------------------------
__attribute__((target("avx2"))) __m256i avx2_mask(int valid) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), lanes);
}

// Rows r0 .. r0 + 3 and columns c0 .. c0 + 8 · Vecs of the 8 × 48 tile; `cols` counts from c0.
template <bool Masked>
__attribute__((target("avx2"), always_inline)) inline __m256 load_b_avx2(const float* p, __m256i mask) {
  if constexpr (Masked) return _mm256_maskload_ps(p, mask);
  else return _mm256_loadu_ps(p);
}

template <int Vecs, bool MaskB>
__attribute__((target("avx2,fma"))) void quarter_avx2(const float* a, const float* b, int b_step, int depth, int rows,
                                                        int cols, float* c, int ldc, bool load) {
  const __m256i mask = avx2_mask(cols - 8 * (Vecs - 1));
#define WEFT_LOAD(r, v)                                                                              \
  __m256 c##r##v = _mm256_setzero_ps();                                                             \
  if (v < Vecs && r < rows && load)                                                                 \
    c##r##v = v == Vecs - 1 ? _mm256_maskload_ps(c + r * ldc + 8 * v, mask) : _mm256_loadu_ps(c + r * ldc + 8 * v);
  WEFT_LOAD(0, 0) WEFT_LOAD(0, 1) WEFT_LOAD(0, 2) WEFT_LOAD(1, 0) WEFT_LOAD(1, 1) WEFT_LOAD(1, 2)
  WEFT_LOAD(2, 0) WEFT_LOAD(2, 1) WEFT_LOAD(2, 2) WEFT_LOAD(3, 0) WEFT_LOAD(3, 1) WEFT_LOAD(3, 2)
#undef WEFT_LOAD
  for (int t = 0; t < depth; ++t, a += panel_rows, b += b_step) {
    const __m256 b0 = load_b_avx2<MaskB && Vecs == 1>(b, mask);
    __m256 b1 = b0, b2 = b0;
    if constexpr (Vecs >= 2) b1 = load_b_avx2<MaskB && Vecs == 2>(b + 8, mask);
    if constexpr (Vecs >= 3) b2 = load_b_avx2<MaskB && Vecs == 3>(b + 16, mask);
#define WEFT_ROW(r)                                                  \
  {                                                                  \
    const __m256 w = _mm256_broadcast_ss(a + r);                     \
    c##r##0 = _mm256_fmadd_ps(w, b0, c##r##0);                       \
    if constexpr (Vecs >= 2) c##r##1 = _mm256_fmadd_ps(w, b1, c##r##1); \
    if constexpr (Vecs >= 3) c##r##2 = _mm256_fmadd_ps(w, b2, c##r##2); \
  }
    WEFT_ROW(0) WEFT_ROW(1) WEFT_ROW(2) WEFT_ROW(3)
#undef WEFT_ROW
  }
#define WEFT_STORE(r, v)                                                                   \
  if (v < Vecs && r < rows) {                                                              \
    if (v == Vecs - 1) _mm256_maskstore_ps(c + r * ldc + 8 * v, mask, c##r##v);            \
    else _mm256_storeu_ps(c + r * ldc + 8 * v, c##r##v);                                   \
  }
  WEFT_STORE(0, 0) WEFT_STORE(0, 1) WEFT_STORE(0, 2) WEFT_STORE(1, 0) WEFT_STORE(1, 1) WEFT_STORE(1, 2)
  WEFT_STORE(2, 0) WEFT_STORE(2, 1) WEFT_STORE(2, 2) WEFT_STORE(3, 0) WEFT_STORE(3, 1) WEFT_STORE(3, 2)
#undef WEFT_STORE
}

template <bool MaskB>
void quarters_avx2(const float* a, const float* b, int b_step, int depth, int rows, int cols, float* c, int ldc,
                   bool load) {
  for (int c0 = 0; c0 < cols; c0 += 24) {
    const int left = std::min(24, cols - c0);
    const auto quarter = left > 16 ? quarter_avx2<3, MaskB> : left > 8 ? quarter_avx2<2, MaskB> : quarter_avx2<1, MaskB>;
    for (int r0 = 0; r0 < rows; r0 += 4)
      quarter(a + r0, b + c0, b_step, depth, std::min(4, rows - r0), left, c + r0 * ldc + c0, ldc, load);
  }
}

void tile_avx2(const float* a, const float* b, int b_step, bool b_in_place, int depth, int rows, int cols, float* c,
               int ldc, bool load) {
  const auto quarters = b_in_place && cols % 8 != 0 ? quarters_avx2<true> : quarters_avx2<false>;
  quarters(a, b, b_step, depth, rows, cols, c, ldc, load);
}

// ---- AVX-512: the whole tile, 8 rows × Vecs · 16 columns, up to 24 accumulators ---------------
template <bool Masked>
__attribute__((target("avx512f"), always_inline)) inline __m512 load_b_avx512(const float* p, __mmask16 mask) {
  if constexpr (Masked) return _mm512_maskz_loadu_ps(mask, p);
  else return _mm512_loadu_ps(p);
}

template <int Vecs, bool MaskB>
__attribute__((target("avx512f"))) void tile_avx512(const float* a, const float* b, int b_step, int depth, int rows,
                                                      int cols, float* c, int ldc, bool load) {
  const int tail = cols - 16 * (Vecs - 1);
  const __mmask16 mask = static_cast<__mmask16>(tail >= 16 ? 0xFFFF : (1u << tail) - 1);
#define WEFT_LOAD(r, v)                                                                                     \
  __m512 c##r##v = _mm512_setzero_ps();                                                                    \
  if (v < Vecs && r < rows && load)                                                                        \
    c##r##v = v == Vecs - 1 ? _mm512_maskz_loadu_ps(mask, c + r * ldc + 16 * v) : _mm512_loadu_ps(c + r * ldc + 16 * v);
#define WEFT_LOAD_ROW(r) WEFT_LOAD(r, 0) WEFT_LOAD(r, 1) WEFT_LOAD(r, 2)
  WEFT_LOAD_ROW(0) WEFT_LOAD_ROW(1) WEFT_LOAD_ROW(2) WEFT_LOAD_ROW(3)
  WEFT_LOAD_ROW(4) WEFT_LOAD_ROW(5) WEFT_LOAD_ROW(6) WEFT_LOAD_ROW(7)
#undef WEFT_LOAD_ROW
#undef WEFT_LOAD
  for (int t = 0; t < depth; ++t, a += panel_rows, b += b_step) {
    const __m512 b0 = load_b_avx512<MaskB && Vecs == 1>(b, mask);
    __m512 b1 = b0, b2 = b0;
    if constexpr (Vecs >= 2) b1 = load_b_avx512<MaskB && Vecs == 2>(b + 16, mask);
    if constexpr (Vecs >= 3) b2 = load_b_avx512<MaskB && Vecs == 3>(b + 32, mask);
#define WEFT_ROW(r)                                                  \
  {                                                                  \
    const __m512 w = _mm512_set1_ps(a[r]);                           \
    c##r##0 = _mm512_fmadd_ps(w, b0, c##r##0);                       \
    if constexpr (Vecs >= 2) c##r##1 = _mm512_fmadd_ps(w, b1, c##r##1); \
    if constexpr (Vecs >= 3) c##r##2 = _mm512_fmadd_ps(w, b2, c##r##2); \
  }
    WEFT_ROW(0) WEFT_ROW(1) WEFT_ROW(2) WEFT_ROW(3) WEFT_ROW(4) WEFT_ROW(5) WEFT_ROW(6) WEFT_ROW(7)
#undef WEFT_ROW
  }
#define WEFT_STORE(r, v)                                                                  \
  if (v < Vecs && r < rows) {                                                             \
    if (v == Vecs - 1) _mm512_mask_storeu_ps(c + r * ldc + 16 * v, mask, c##r##v);        \
    else _mm512_storeu_ps(c + r * ldc + 16 * v, c##r##v);                                 \
  }
#define WEFT_STORE_ROW(r) WEFT_STORE(r, 0) WEFT_STORE(r, 1) WEFT_STORE(r, 2)
  WEFT_STORE_ROW(0) WEFT_STORE_ROW(1) WEFT_STORE_ROW(2) WEFT_STORE_ROW(3)
  WEFT_STORE_ROW(4) WEFT_STORE_ROW(5) WEFT_STORE_ROW(6) WEFT_STORE_ROW(7)
#undef WEFT_STORE_ROW
#undef WEFT_STORE
}

template <bool MaskB>
void tile_avx512_masked_or_not(const float* a, const float* b, int b_step, int depth, int rows, int cols, float* c,
                               int ldc, bool load) {
  const auto tile = cols > 32 ? tile_avx512<3, MaskB> : cols > 16 ? tile_avx512<2, MaskB> : tile_avx512<1, MaskB>;
  tile(a, b, b_step, depth, rows, cols, c, ldc, load);
}

void tile_avx512_any(const float* a, const float* b, int b_step, bool b_in_place, int depth, int rows, int cols,
                     float* c, int ldc, bool load) {
  const auto tile = b_in_place && cols % 16 != 0 ? tile_avx512_masked_or_not<true> : tile_avx512_masked_or_not<false>;
  tile(a, b, b_step, depth, rows, cols, c, ldc, load);
}
#endif

TileFn tile_for(VectorIsa isa) {
  switch (isa) {
#ifdef WEFT_GEMM_X86
    case VectorIsa::avx512: return tile_avx512_any;
    case VectorIsa::avx2: return tile_avx2;
#endif
    default: return tile_portable;
  }
}

}  // namespace

std::size_t packed_gemm_scratch(int m, int n, int k) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  const auto depth = static_cast<std::size_t>(depth_block(k));
  return depth * static_cast<std::size_t>(round_up(std::min(m, max_rows), panel_rows) +
                                          round_up(std::min(n, max_cols), panel_cols));
}

void packed_gemm(Trans trans_a, Trans trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                 float beta, float* c, int ldc, float* scratch) {
  const GemmRows rows{m, a, lda, c, ldc};
  packed_gemm_rows(trans_a, trans_b, {&rows, 1}, n, k, b, ldb, beta, scratch);
}

void packed_gemm_rows(Trans trans_a, Trans trans_b, std::span<const GemmRows> blocks, int n, int k, const float* b,
                      int ldb, float beta, float* scratch) {
  if (beta != 0.0f && beta != 1.0f) throw Error("packed_gemm: beta must be 0 or 1, got " + std::to_string(beta));
  if (n <= 0) return;
  if (k <= 0) {
    if (beta == 0.0f)
      for (const GemmRows& block : blocks)
        for (int i = 0; i < block.m; ++i) std::fill_n(block.c + static_cast<std::ptrdiff_t>(i) * block.ldc, n, 0.0f);
    return;
  }
  const TileFn tile = tile_for(vector_isa());
  const int depth_step = depth_block(k);
  float* const packed_b = scratch;
  float* const packed_a = scratch + static_cast<std::ptrdiff_t>(depth_step) * round_up(std::min(n, max_cols), panel_cols);
  // op(B) already k-major with contiguous columns is read in place; only Bᵀ is packed, once per
  // block of it for every block of rows.
  const bool packs_b = trans_b == Trans::yes;
  const int b_step = packs_b ? panel_cols : ldb;
  for (int j0 = 0; j0 < n; j0 += max_cols) {
    const int cols = std::min(max_cols, n - j0);
    for (int p0 = 0; p0 < k; p0 += depth_step) {
      const int depth = std::min(depth_step, k - p0);
      const bool load = p0 > 0 || beta != 0.0f;
      if (packs_b) pack_b_transposed(b, ldb, p0, depth, j0, cols, packed_b);
      for (const GemmRows& block : blocks)
        for (int i0 = 0; i0 < block.m; i0 += max_rows) {
          const int rows = std::min(max_rows, block.m - i0);
          pack_a(trans_a, block.a, block.lda, i0, rows, p0, depth, packed_a);
          for (int j = 0; j < cols; j += panel_cols) {
            const float* b_panel = packs_b ? packed_b + static_cast<std::ptrdiff_t>(j) * depth
                                           : b + static_cast<std::ptrdiff_t>(p0) * ldb + j0 + j;
            for (int i = 0; i < rows; i += panel_rows)
              tile(packed_a + static_cast<std::ptrdiff_t>(i) * depth, b_panel, b_step, !packs_b, depth,
                   std::min(panel_rows, rows - i), std::min(panel_cols, cols - j),
                   block.c + static_cast<std::ptrdiff_t>(i0 + i) * block.ldc + j0 + j, block.ldc, load);
          }
        }
    }
  }
}

}  // namespace weft::builtin
