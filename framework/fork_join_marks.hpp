#pragma once
// Tells ThreadSanitizer about oneTBB's fork and join. libtbb is not instrumented, so TSan cannot
// see that a task starts after the thread that spawned it got there, nor that parallel_for
// returns after every task ended, and it would report every shard buffer as raced. Two separate
// marks keep tasks unordered among themselves, so a real race between two shards still shows.
// Outside a TSan build every call is empty.
namespace weft {

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);

class ForkJoinMarks {
 public:
  void fork() { __tsan_release(&forked_); }         // before spawning the tasks
  void task_begins() { __tsan_acquire(&forked_); }  // first thing in each task
  void task_ends() { __tsan_release(&joined_); }    // last thing in each task
  void joined() { __tsan_acquire(&joined_); }       // after the parallel loop returned

 private:
  char forked_ = 0, joined_ = 0;
};
#else
struct ForkJoinMarks {
  void fork() {}
  void task_begins() {}
  void task_ends() {}
  void joined() {}
};
#endif

}  // namespace weft
