// The replaced allocation functions behind CountAllocations (see the header). Each one notes the
// allocation when a region is open, then forwards to glibc's allocator through its __libc_*
// entry points, so memory from any path (new, malloc, a library's aligned_alloc) is freed by the
// same allocator whichever function frees it.
#include "allocation_counter.hpp"

#include <cxxabi.h>
#include <errno.h>
#include <execinfo.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* p);
}

namespace {

std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0}, requested{0};
constexpr int max_frames = 64;
void* first_frames[max_frames];
int first_depth = 0;
// backtrace() may allocate (the first call loads the unwinder); those are not the code's.
thread_local bool inside_note = false;

// Not inlined: first_allocation_stack() skips exactly this frame and the allocation function's.
[[gnu::noinline]] void note(std::size_t size) {
  if (!counting.load(std::memory_order_relaxed) || inside_note) return;
  inside_note = true;
  requested.fetch_add(size, std::memory_order_relaxed);
  if (allocations.fetch_add(1) == 0) first_depth = backtrace(first_frames, max_frames);
  inside_note = false;
}

void* checked(void* p) {
  if (!p) throw std::bad_alloc();
  return p;
}

void* allocate(std::size_t size) { return checked(__libc_malloc(size ? size : 1)); }
void* allocate(std::size_t size, std::align_val_t alignment) {
  return checked(__libc_memalign(static_cast<std::size_t>(alignment), size ? size : 1));
}

// "lib.so(_ZN4weft8Executor...+0x1f) [0x7f..]" with the mangled name demangled.
std::string demangled(const char* frame) {
  std::string line = frame;
  const auto open = line.find('('), plus = line.find('+', open);
  if (open == std::string::npos || plus == std::string::npos || plus == open + 1) return line;
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(line.substr(open + 1, plus - open - 1).c_str(), nullptr, nullptr, &status), std::free);
  return status == 0 ? line.substr(0, open + 1) + name.get() + line.substr(plus) : line;
}

}  // namespace

namespace weft::testing {

CountAllocations::CountAllocations() {
  void* warm[1];
  backtrace(warm, 1);  // loads the unwinder now rather than inside the region
  allocations = 0;
  requested = 0;
  first_depth = 0;
  counting = true;
}

void CountAllocations::stop() { counting = false; }

std::size_t CountAllocations::count() const { return allocations.load(); }

std::size_t CountAllocations::bytes() const { return requested.load(); }

std::string CountAllocations::first_allocation_stack() const {
  if (first_depth == 0) return {};
  const std::unique_ptr<char*, void (*)(void*)> frames(backtrace_symbols(first_frames, first_depth), std::free);
  std::string stack;
  // Frame 0 is note(), frame 1 the replaced allocation function: start at the caller.
  for (int i = 2; i < first_depth; ++i) stack += "  " + demangled(frames.get()[i]) + "\n";
  return stack;
}

}  // namespace weft::testing

// ---- Replacements: every form of global operator new and delete ----

void* operator new(std::size_t size) {
  note(size);
  return allocate(size);
}
void* operator new[](std::size_t size) {
  note(size);
  return allocate(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  note(size);
  return __libc_malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  note(size);
  return __libc_malloc(size ? size : 1);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  note(size);
  return allocate(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  note(size);
  return allocate(size, alignment);
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  note(size);
  return __libc_memalign(static_cast<std::size_t>(alignment), size ? size : 1);
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  note(size);
  return __libc_memalign(static_cast<std::size_t>(alignment), size ? size : 1);
}

void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { __libc_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { __libc_free(p); }

// ---- Replacements: the C allocation functions (libraries and libstdc++ internals use them) ----

extern "C" {

void* malloc(std::size_t size) noexcept {
  note(size);
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  note(count * size);
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) noexcept {
  note(size);
  return __libc_realloc(p, size);
}
void free(void* p) noexcept { __libc_free(p); }
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  note(size);
  return __libc_memalign(alignment, size);
}
void* memalign(std::size_t alignment, std::size_t size) noexcept {
  note(size);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  note(size);
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

}  // extern "C"
