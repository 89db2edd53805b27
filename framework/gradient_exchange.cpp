#include "gradient_exchange.hpp"

#include "weft/error.hpp"

namespace weft::detail {

std::vector<GradientBucket> plan_gradient_buckets(std::span<const std::size_t> ready, std::size_t total,
                                                  std::size_t max_floats, std::size_t min_floats) {
  std::vector<GradientBucket> buckets;
  std::size_t end = total;
  for (std::size_t l = ready.size(); l-- > 0 && end > 0;) {
    const std::size_t from = l == 0 ? 0 : ready[l];
    while (end > from && end - from > max_floats) {  // whole pieces of a large layer, top down
      buckets.push_back({end - max_floats, end});
      end -= max_floats;
    }
    // What is left goes with the layers below unless it is worth a message of its own.
    if (end > from && (end - from >= min_floats || l == 0)) {
      buckets.push_back({from, end});
      end = from;
    }
  }
  if (end > 0) buckets.push_back({0, end});  // a model without layers (nothing to wait for)
  return buckets;
}

GradientExchange::GradientExchange(Communicator& comm, std::vector<GradientBucket> buckets)
    : comm_(comm), buckets_(std::move(buckets)), pending_(buckets_.size()) {}

void GradientExchange::start(std::span<float> out, bool receives, bool sends) {
  if (active_) throw Error("a gradient exchange started before the previous one finished");
  out_ = out;
  receives_ = receives;
  sends_ = sends;
  root_ = comm_.rank() == comm_.size() - 1;
  active_ = true;
  ready_from_ = out.size();
  folded_ = broadcasting_ = broadcast_ = 0;
  // Every receive posted now, in bucket order: a total that arrives early lands in place, and a
  // sender never waits for this rank to ask for it.
  if (receives_)
    for (std::size_t i = 0; i < buckets_.size(); ++i)
      pending_[i].receive = comm_.start_receive_from_previous(
          std::as_writable_bytes(out_.subspan(buckets_[i].begin, buckets_[i].end - buckets_[i].begin)));
}

bool GradientExchange::fold_next(bool wait, Fold fold) {
  if (folded_ == buckets_.size() || buckets_[folded_].begin < ready_from_) return false;
  const GradientBucket& b = buckets_[folded_];
  Pending& p = pending_[folded_];
  if (receives_) {
    if (wait) comm_.wait(p.receive);
    else if (!comm_.done(p.receive)) return false;
  }
  fold(receives_, b.begin, b.end);
  if (sends_) p.send = comm_.start_send_to_next(std::as_bytes(out_.subspan(b.begin, b.end - b.begin)));
  ++folded_;
  return true;
}

bool GradientExchange::broadcast_next(bool wait) {
  if (broadcasting_ == buckets_.size()) return false;
  Pending& p = pending_[broadcasting_];
  // The last rank broadcasts a bucket once it has folded it; a rank on the chain receives the
  // broadcast where it sent from, so only once its send has left; a rank that holds nothing at
  // any time.
  if ((root_ || sends_) && broadcasting_ >= folded_) return false;
  if (!root_ && sends_) {
    if (wait) comm_.wait(p.send);
    else if (!comm_.done(p.send)) return false;
  }
  const GradientBucket& b = buckets_[broadcasting_];
  p.broadcast = comm_.start_broadcast(std::as_writable_bytes(out_.subspan(b.begin, b.end - b.begin)), comm_.size() - 1);
  ++broadcasting_;
  return true;
}

void GradientExchange::advance(std::size_t ready_from, Fold fold) {
  if (!active_) return;
  ready_from_ = ready_from;
  for (bool moved = true; moved;) {
    moved = fold_next(false, fold);
    moved = broadcast_next(false) || moved;
  }
  // Testing the oldest running broadcast moves every pending transfer along (sends included).
  while (broadcast_ < broadcasting_ && comm_.done(pending_[broadcast_].broadcast)) ++broadcast_;
}

void GradientExchange::finish(Fold fold) {
  if (!active_) return;
  folded_early_ += folded_;
  exchanged_ += buckets_.size();
  ready_from_ = 0;
  // The chain first: waiting only on receives from rank - 1 (rank 0 never waits), so every rank
  // gets through it; the broadcasts, started in the same order everywhere, after.
  while (fold_next(true, fold))
    while (broadcast_next(false)) {
    }
  while (broadcast_next(true)) {
  }
  for (std::size_t i = broadcast_; i < buckets_.size(); ++i) comm_.wait(pending_[i].broadcast);
  comm_.release_requests();
  active_ = false;
}

}  // namespace weft::detail
