#pragma once
// WEFT_VECTOR_CLONES: compile a hot element loop three times, for x86-64-v4 (AVX-512),
// x86-64-v3 (AVX2) and the baseline the library is built for, and let the loader pick the widest
// the CPU runs (GCC's target_clones). The default build targets baseline x86-64, whose SSE2
// vectors hold four floats: loops of square roots and divisions (Adam) or of bit tests over every
// gradient run two to four times faster in the wider versions.
//
// Contraction into FMA is off in all of them, so each version rounds every operation exactly as
// the baseline does: the same bits on every CPU, and the same as before the clones.
//
// Not under ThreadSanitizer: the loader runs a clone's resolver while relocating libweft, before
// TSan's runtime is up, and its instrumented code crashed there (every TSan suite died at load).
// That build takes the baseline version, which gives the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define WEFT_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), optimize("fp-contract=off")))
#else
#define WEFT_VECTOR_CLONES
#endif
