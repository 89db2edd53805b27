#pragma once
// A counter-based random number generator: every number is a pure function of a key and a
// counter, so any thread can draw "the k-th number of stream S" without shared state. Keys are
// derived from the user's seed and a path of tags (purpose, layer, step, sample), which is what
// makes shuffling, initialisation and dropout independent of the thread count.
#include <cstdint>

namespace weft {

// A stream of random numbers identified by its key; a value type, cheap to copy and safe to
// read from any number of threads (every draw is const).
class CounterRng {
 public:
  // The root stream of `seed`; derive() branches off it.
  explicit CounterRng(std::uint64_t seed = 0) : key_(mix(seed ^ 0x6a09e667f3bcc909ULL)) {}

  // A new, statistically independent stream identified by `tag`.
  CounterRng derive(std::uint64_t tag) const { return CounterRng(key_, tag); }

  // The stream's 64-bit key, e.g. to seed another function that takes a plain integer.
  std::uint64_t key() const { return key_; }

  // 64 random bits: the `counter`-th output of this stream.
  std::uint64_t bits(std::uint64_t counter) const { return mix(mix(key_ + counter * 0x9e3779b97f4a7c15ULL) ^ key_); }

  // Uniform in [0, 1), 24 bits of mantissa.
  float uniform(std::uint64_t counter) const {
    return static_cast<float>(bits(counter) >> 40) * (1.0f / 16777216.0f);
  }
  // Uniform in [0, 1) with 53 bits.
  double uniform_double(std::uint64_t counter) const {
    return static_cast<double>(bits(counter) >> 11) * (1.0 / 9007199254740992.0);
  }
  // Standard normal (Box–Muller on two draws derived from `counter`).
  double normal(std::uint64_t counter) const;
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t counter, std::uint64_t n) const;

  // The splitmix64 finaliser: a bijective 64-bit mixer with full avalanche.
  static constexpr std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  CounterRng(std::uint64_t parent_key, std::uint64_t tag)
      : key_(mix(parent_key ^ mix(tag + 0x3c6ef372fe94f82bULL))) {}
  std::uint64_t key_;
};

// Tags for the top-level streams, so two purposes never share numbers.
namespace rng_stream {
inline constexpr std::uint64_t init = 1;     // parameter initialisation (Model::initialize)
inline constexpr std::uint64_t shuffle = 2;  // the epoch order of the samples
inline constexpr std::uint64_t dropout = 3;  // each layer's per-step stream (PassInfo::rng)
inline constexpr std::uint64_t split = 4;    // which samples a validation split holds out
inline constexpr std::uint64_t window = 5;  // the order of a streamed source's windows
inline constexpr std::uint64_t user = 100;  // code outside the training loop (the gradient checker)
}  // namespace rng_stream

}  // namespace weft
