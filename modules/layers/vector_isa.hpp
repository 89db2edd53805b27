#pragma once
// The vector instruction set the hand-written kernels run on (the shifted-window convolution,
// its grid copies, 2 × 2 max pooling): the widest this CPU supports, picked once per process.
// Each kernel gives the same bits in every vector set (they differ in width, never in the order
// of operations), so tests and benchmarks may lower the set to compare them side by side.
namespace weft::builtin {

// Narrowest first: a portable loop, AVX2 with FMA, AVX-512 (F).
enum class VectorIsa { portable, avx2, avx512 };

// The set in use: the widest this CPU supports, or lower after limit_vector_isa().
VectorIsa vector_isa();

// Runs the kernels on no wider a set than `widest` from now on. Not to be called while a kernel
// runs (tests and benchmarks call it between passes).
void limit_vector_isa(VectorIsa widest);

}  // namespace weft::builtin
