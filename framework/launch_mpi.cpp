// launch_communicator() of a libweft built with Open MPI: MPI_COMM_WORLD when this process was
// started by mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE for each process it launches), else the
// single process, so plain `weft train` never pays for MPI initialisation.
// Only the C API: Open MPI's deprecated C++ bindings would otherwise come with mpi.h (and warn).
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <vector>

#include "liveness.hpp"
#include "peer_watch.hpp"
#include "weft/communicator.hpp"
#include "weft/error.hpp"

namespace weft {
namespace {

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string("MPI ") + what + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

int count_of(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(INT_MAX)) throw Error("an MPI message of " + std::to_string(bytes) + " bytes is over 2 GiB");
  return static_cast<int>(bytes);
}

class MpiWorld final : public Communicator {
 public:
  explicit MpiWorld(double peer_timeout_seconds) {
    // Ranks that wait in a collective yield their core instead of spinning: with ranks sharing
    // cores (or oneTBB workers beside them) spinning made a fashion_mlp step's exchange 98 ms
    // instead of 4.5 ms on 2 cores. A value the user set (environment, mpirun --mca) is kept.
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    int provided = 0;
    // Only the thread that created the communicator calls MPI (oneTBB workers never do).
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "initialisation");
    // Errors come back as codes (turned into Error) instead of aborting inside the library.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // The non-blocking operations' own channel (a copy of the world: same ranks, separate
    // matching), so that their messages and broadcasts never pair with the blocking ones.
    check(MPI_Comm_dup(MPI_COMM_WORLD, &nonblocking_), "communicator duplication");
    const auto peers = watch_peers();
    if (size_ > 1 && peer_timeout_seconds > 0) start_liveness(peers, peer_timeout_seconds);
  }
  ~MpiWorld() override {
    MPI_Comm_free(&nonblocking_);
    MPI_Finalize();
    // Heartbeats go on through MPI_Finalize (it waits for every rank): a host that drops then
    // still ends the job. Afterwards the goodbye: no rank takes this one's end for a failure.
    if (liveness_) liveness_->finish();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void receive_from_previous(std::span<std::byte> data) override {
    check(MPI_Recv(data.data(), count_of(data.size()), MPI_BYTE, rank_ - 1, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receive");
  }
  void send_to_next(std::span<const std::byte> data) override {
    check(MPI_Send(data.data(), count_of(data.size()), MPI_BYTE, rank_ + 1, tag, MPI_COMM_WORLD), "send");
  }
  void broadcast(std::span<std::byte> data, int root) override {
    check(MPI_Bcast(data.data(), count_of(data.size()), MPI_BYTE, root, MPI_COMM_WORLD), "broadcast");
  }
  void sum(std::span<float> data) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data.data(), count_of(data.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "allreduce");
  }
  void sum(std::span<std::int64_t> data) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data.data(), count_of(data.size()), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "allreduce");
  }
  std::int64_t min(std::int64_t value) override {
    check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD), "allreduce");
    return value;
  }
  std::vector<std::byte> all_gather(std::span<const std::byte> local) override {
    int mine = count_of(local.size());
    std::vector<int> counts(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    check(MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD), "allgather");
    std::size_t total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<std::size_t>(r)] = count_of(total);
      total += static_cast<std::size_t>(counts[static_cast<std::size_t>(r)]);
    }
    std::vector<std::byte> all(total);
    check(MPI_Allgatherv(local.data(), mine, MPI_BYTE, all.data(), counts.data(), offsets.data(), MPI_BYTE, MPI_COMM_WORLD),
          "allgatherv");
    return all;
  }
  Request start_receive_from_previous(std::span<std::byte> data) override {
    MPI_Request& r = requests_.emplace_back(MPI_REQUEST_NULL);
    check(MPI_Irecv(data.data(), count_of(data.size()), MPI_BYTE, rank_ - 1, tag, nonblocking_, &r), "receive");
    return requests_.size() - 1;
  }
  Request start_send_to_next(std::span<const std::byte> data) override {
    MPI_Request& r = requests_.emplace_back(MPI_REQUEST_NULL);
    check(MPI_Isend(data.data(), count_of(data.size()), MPI_BYTE, rank_ + 1, tag, nonblocking_, &r), "send");
    return requests_.size() - 1;
  }
  Request start_broadcast(std::span<std::byte> data, int root) override {
    MPI_Request& r = requests_.emplace_back(MPI_REQUEST_NULL);
    check(MPI_Ibcast(data.data(), count_of(data.size()), MPI_BYTE, root, nonblocking_, &r), "broadcast");
    return requests_.size() - 1;
  }
  bool done(Request request) override {
    int flag = 0;  // a completed request is MPI_REQUEST_NULL, which tests as complete
    check(MPI_Test(&requests_.at(request), &flag, MPI_STATUS_IGNORE), "test");
    return flag != 0;
  }
  void wait(Request request) override { check(MPI_Wait(&requests_.at(request), MPI_STATUS_IGNORE), "wait"); }
  void release_requests() override {
    for (const MPI_Request& r : requests_)
      if (r != MPI_REQUEST_NULL) throw Error("an MPI request was released before it completed");
    requests_.clear();
  }
  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    detail::tell_local_peers_this_rank_aborts();  // this line says why; no "rank R died" after it
    if (liveness_) liveness_->announce_abort();    // nor "rank R has sent nothing" from another host
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::exit(1);  // MPI_Abort does not return; this only satisfies [[noreturn]]
  }

 private:
  // Every rank's host and pid, so that a rank that dies is named in one line (peer_watch.hpp).
  std::vector<detail::Peer> watch_peers() {
    struct Where {
      char host[64];
      int pid;
    } mine{};
    gethostname(mine.host, sizeof mine.host - 1);
    mine.pid = static_cast<int>(getpid());
    std::vector<Where> all(static_cast<std::size_t>(size_));
    check(MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, MPI_COMM_WORLD), "allgather");
    std::vector<detail::Peer> peers;
    for (const auto& w : all) peers.push_back({std::string(w.host, strnlen(w.host, sizeof w.host)), w.pid});
    detail::watch_local_peers(rank_, peers, [] { check(MPI_Barrier(MPI_COMM_WORLD), "barrier"); });
    return peers;
  }

  // The heartbeat connections to rank 0 (liveness.hpp). A rank that cannot reach rank 0 ends the
  // job at once: running on without them would leave a dropped host to hang it.
  void start_liveness(const std::vector<detail::Peer>& peers, double timeout_seconds) {
    liveness_ = std::make_unique<detail::Liveness>(rank_, peers, timeout_seconds);
    detail::LivenessContact contact;
    if (rank_ == 0) contact = liveness_->listen();
    check(MPI_Bcast(&contact, sizeof contact, MPI_BYTE, 0, MPI_COMM_WORLD), "broadcast");
    struct Why {
      char text[200];
    } mine{};
    if (rank_ != 0) std::snprintf(mine.text, sizeof mine.text, "%s", liveness_->connect(contact).c_str());
    std::vector<Why> all(static_cast<std::size_t>(size_));
    check(MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, MPI_COMM_WORLD), "allgather");
    for (int r = 1; r < size_; ++r) {
      if (!all[static_cast<std::size_t>(r)].text[0]) continue;
      if (rank_ != 0) MPI_Barrier(MPI_COMM_WORLD);  // never completes: rank 0 ends the job
      abort("weft: rank " + std::to_string(r) + " of " + std::to_string(size_) + " (on " +
            peers[static_cast<std::size_t>(r)].host + ") cannot reach rank 0 for the heartbeats that detect a dropped host: " +
            all[static_cast<std::size_t>(r)].text + "; allow TCP between the hosts, or run with --peer-timeout 0 (then a "
            "dropped host hangs the job)");
    }
    liveness_->start();
  }

  static constexpr int tag = 7;
  int rank_ = 0, size_ = 1;
  MPI_Comm nonblocking_ = MPI_COMM_NULL;  // the channel of the start_* operations
  std::vector<MPI_Request> requests_;     // indexed by Request handle
  std::unique_ptr<detail::Liveness> liveness_;  // null with one rank or --peer-timeout 0
};

}  // namespace

std::unique_ptr<Communicator> launch_communicator(double peer_timeout_seconds) {
  if (!std::getenv("OMPI_COMM_WORLD_SIZE")) return std::make_unique<SingleProcess>();
  return std::make_unique<MpiWorld>(peer_timeout_seconds);
}

bool built_with_mpi() { return true; }

}  // namespace weft
