#pragma once
// Counts heap allocations made by any thread while a CountAllocations object is alive.
//
// allocation_counter.cpp replaces every global operator new (plain, array, aligned, nothrow) and
// malloc, calloc, realloc, aligned_alloc, posix_memalign and memalign, forwarding to glibc's own
// allocator. Link it into one test executable only (it changes the allocator of the whole
// program), and not into sanitizer builds, whose runtime replaces malloc itself.
//
// The first allocation of a counted region records its call stack, so a failing test names the
// code that allocated instead of only a count.
#include <cstddef>
#include <string>

namespace weft::testing {

class CountAllocations {
 public:
  CountAllocations();  // starts counting from zero; only one region may be open at a time
  ~CountAllocations() { stop(); }
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;

  // Ends the counted region. Call it before reading the results into anything that allocates
  // (a test assertion's message), or that would be counted too.
  void stop();

  // Allocations in the region, and how many bytes they asked for.
  std::size_t count() const;
  std::size_t bytes() const;
  // The call stack of the region's first allocation, one demangled frame per line; empty when
  // there was none.
  std::string first_allocation_stack() const;
};

}  // namespace weft::testing
