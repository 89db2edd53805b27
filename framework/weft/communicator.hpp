#pragma once
// Communicator: the processes of one data-parallel training run (weft/executor.hpp splits each
// global mini-batch's shards among them). A single process is the default; with the `mpi` build
// option, launch_communicator() returns an Open MPI one when the program was started by mpirun.
//
// Only the collectives the executor needs: an ordered hand-off from rank to rank (folds that must
// run in global shard order to give the same bits as one process), broadcast, an unordered sum
// (the fast mode), an all-gather of variable-sized blocks, and abort; and non-blocking hand-offs
// and broadcasts for the gradient exchange that overlaps the backward pass. Every call is made
// from the thread that created the communicator (MPI_THREAD_FUNNELED: oneTBB workers never call).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace weft {

// The collectives of one data-parallel run (see the file comment); every call is collective.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;  // this process: 0 <= rank() < size()
  virtual int size() const = 0;  // processes in the run
  // Rank r > 0 receives exactly data.size() bytes that rank r - 1 sent with send_to_next().
  virtual void receive_from_previous(std::span<std::byte> data) = 0;
  // Rank r < size() - 1 hands `data` to rank r + 1, which receives it with receive_from_previous().
  virtual void send_to_next(std::span<const std::byte> data) = 0;
  // Every rank ends with `root`'s bytes.
  virtual void broadcast(std::span<std::byte> data, int root) = 0;
  // Element-wise sums over all ranks, in place. The float order of additions is the MPI
  // library's: not the same bits as one process.
  virtual void sum(std::span<float> data) = 0;
  virtual void sum(std::span<std::int64_t> data) = 0;  // the same for integers (exact)
  virtual std::int64_t min(std::int64_t value) = 0;  // the smallest `value` over all ranks
  // Every rank's block, concatenated in rank order (blocks may differ in size).
  virtual std::vector<std::byte> all_gather(std::span<const std::byte> local) = 0;
  // Ends every process of the run with `message` on stderr.
  [[noreturn]] virtual void abort(const std::string& message) = 0;

  // Non-blocking operations (the overlapped gradient exchange, weft/executor.hpp). They travel on
  // a channel of their own: their messages and broadcasts never match the blocking calls above,
  // which may run while they are pending. Each returns a handle for done() and wait(); its data
  // must stay untouched until then. Every rank starts its broadcasts in the same order.
  using Request = std::size_t;
  // The non-blocking receive_from_previous(); messages from one rank arrive in the order sent.
  virtual Request start_receive_from_previous(std::span<std::byte> data) = 0;
  virtual Request start_send_to_next(std::span<const std::byte> data) = 0;  // of send_to_next()
  virtual Request start_broadcast(std::span<std::byte> data, int root) = 0;  // of broadcast()
  // Whether `request` has completed; moves the pending transfers along (the library has no
  // thread of its own doing that: overlap needs these calls). Once true, stays true.
  virtual bool done(Request request) = 0;
  virtual void wait(Request request) = 0;  // until `request` has completed
  // Forgets every request (handles start from 0 again); all must have completed.
  virtual void release_requests() = 0;
};

// The one-process communicator: rank 0 of 1; the hand-offs have no peer and throw.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void receive_from_previous(std::span<std::byte> data) override;
  void send_to_next(std::span<const std::byte> data) override;
  void broadcast(std::span<std::byte> data, int root) override;
  void sum(std::span<float>) override {}
  void sum(std::span<std::int64_t>) override {}
  std::int64_t min(std::int64_t value) override { return value; }
  std::vector<std::byte> all_gather(std::span<const std::byte> local) override { return {local.begin(), local.end()}; }
  [[noreturn]] void abort(const std::string& message) override;
  Request start_receive_from_previous(std::span<std::byte> data) override;
  Request start_send_to_next(std::span<const std::byte> data) override;
  Request start_broadcast(std::span<std::byte> data, int root) override;
  bool done(Request) override { return true; }
  void wait(Request) override {}
  void release_requests() override {}
};

// Seconds of silence after which launch_communicator() counts a rank as dropped (weft train's
// --peer-timeout default).
constexpr double default_peer_timeout_seconds = 10;
// The communicator of this process: Open MPI's world when built with it and started by mpirun
// (MPI is initialised here and finalised when the result is destroyed), else single-process.
// Under mpirun a rank silent for `peer_timeout_seconds` (its host dropped) ends the job with a
// line naming it (docs/distributed.md); 0 turns that watch off.
std::unique_ptr<Communicator> launch_communicator(double peer_timeout_seconds = default_peer_timeout_seconds);
// Whether this libweft was built with Open MPI (the `mpi` build option found it).
bool built_with_mpi();

}  // namespace weft
