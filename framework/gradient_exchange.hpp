#pragma once
// The exact gradient exchange across ranks (weft/executor.hpp), in buckets that can start during
// the backward pass, as PyTorch's DistributedDataParallel overlaps its allreduce with backward.
//
// Each bucket is a range of the flat gradient. Its sum is folded rank to rank in rank order, as
// the blocking chain did: rank r receives the running total of ranks 0..r-1, adds its own shards
// in shard order and sends it to rank r + 1; the last rank then broadcasts it. The float
// additions are the single process's, so the bits do not depend on the buckets, on K, or on when
// each step runs. Every transfer is non-blocking (Communicator::start_*): a rank in the middle
// sends bucket i while it receives bucket i + 1, and a bucket whose layers' backward is done on
// this rank goes as soon as its total arrives, while backward continues on earlier layers.
//
// Nothing moves between calls (Open MPI has no progress thread by default): the executor calls
// advance() after every layer's backward, and finish() in reduce_gradients(). Internal to libweft.
#include <cstddef>
#include <span>
#include <vector>

#include "weft/communicator.hpp"
#include "weft/function_ref.hpp"

namespace weft::detail {

struct GradientBucket {
  std::size_t begin = 0, end = 0;  // floats [begin, end) of the flat gradient
};

// Buckets in the order backward completes them (from the end of the gradient down), at most
// max_floats each. A bucket ends where a layer's gradient does once it holds min_floats (the
// last one, at the start of the gradient, may hold fewer), so it is final right after that
// layer's backward. ready[l]: after layer l's backward, floats [ready[l], total) are final
// (ready falls with l; ready[0] is 0).
std::vector<GradientBucket> plan_gradient_buckets(std::span<const std::size_t> ready, std::size_t total,
                                                  std::size_t max_floats, std::size_t min_floats);

class GradientExchange {
 public:
  // fold(started, begin, end) adds this rank's shards' gradients, in shard order, onto
  // out[begin, end) (when !started, out holds nothing yet: it copies the first).
  using Fold = FunctionRef<void(bool started, std::size_t begin, std::size_t end)>;

  GradientExchange(Communicator& comm, std::vector<GradientBucket> buckets);
  const std::vector<GradientBucket>& buckets() const { return buckets_; }
  bool active() const { return active_; }
  std::span<float> output() const { return out_; }
  // Over every exchange so far: buckets folded (and sent on) before finish(), during backward;
  // and all buckets.
  std::size_t buckets_folded_early() const { return folded_early_; }
  std::size_t buckets_exchanged() const { return exchanged_; }

  // A new exchange into `out` (which must hold every bucket). receives: an earlier rank holds
  // shards (the total arrives from rank - 1); sends: this rank or an earlier one holds shards and
  // a later rank exists. Posts every receive at once.
  void start(std::span<float> out, bool receives, bool sends);
  // Moves the exchange along without waiting: folds and sends the buckets that lie in
  // [ready_from, end) and have arrived, starts the broadcasts that may start.
  void advance(std::size_t ready_from, Fold fold);
  // Completes the exchange: every bucket folded, sent, broadcast; out holds the whole sum.
  void finish(Fold fold);

 private:
  bool fold_next(bool wait, Fold fold);   // the next bucket's fold, if it may run
  bool broadcast_next(bool wait);          // the next bucket's broadcast, if it may start

  Communicator& comm_;
  std::vector<GradientBucket> buckets_;
  std::span<float> out_;
  bool receives_ = false, sends_ = false, root_ = false, active_ = false;
  std::size_t ready_from_ = 0;  // of the last advance()
  struct Pending {
    Communicator::Request receive = 0, send = 0, broadcast = 0;
  };
  std::vector<Pending> pending_;  // per bucket
  std::size_t folded_ = 0;        // buckets folded (and their send started), in order
  std::size_t broadcasting_ = 0;  // buckets whose broadcast has started, in order
  std::size_t broadcast_ = 0;     // buckets whose broadcast is known to have completed
  std::size_t folded_early_ = 0, exchanged_ = 0;  // see buckets_folded_early()
};

}  // namespace weft::detail
