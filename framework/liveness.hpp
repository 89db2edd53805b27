#pragma once
// A host that drops, for a data-parallel run under mpirun (launch_mpi.cpp).
//
// peer_watch.hpp names a rank that dies from a survivor on its own host. A host that drops (cut
// off, powered down, or its process stopped) leaves no local witness, and the other ranks would
// wait in MPI for it forever. So each rank keeps a TCP connection to rank 0 beside MPI (a star:
// rank 0 listens, every other rank connects), carrying nothing but one-byte heartbeats; the
// gradients stay on MPI. A thread on each side sends a heartbeat every timeout/4 (at most a
// second) and expects the peer's: it wakes on its own clock, so a rank busy in a long step never
// trips it. Silence beyond the timeout makes the watching process print one line naming the
// silent rank (rank 0 names rank r; rank r names rank 0) and end the job.
//
// Bytes on a connection: 'H' a heartbeat; 'B' the sender finished normally (after its
// MPI_Finalize: it is no longer watched); 'A' the job is ending with a line already printed
// (rank 0 passes it to every rank), so nobody adds a second one. A connection closed without
// 'B' is a process gone: when another rank on its host will name it (peer_watch.hpp) the watcher
// waits for mpirun to stop the job, and names it itself only if that does not come.
// Internal to libweft's MPI launcher.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "peer_watch.hpp"

namespace weft::detail {

// Where rank 0 listens: its IPv4 addresses (network order; the first that connects wins) and port.
struct LivenessContact {
  std::uint32_t port = 0;
  std::uint32_t count = 0;
  std::uint32_t ipv4[8] = {};
};

class Liveness {
 public:
  Liveness(int rank, std::vector<Peer> peers, double timeout_seconds);
  ~Liveness();  // finish()
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // Rank 0: opens the listening socket; the result goes to every rank (MPI_Bcast).
  LivenessContact listen();
  // Rank r > 0: connects to rank 0 and says which rank it is. An empty string, or why not.
  std::string connect(const LivenessContact& contact);
  // Starts the watching thread (every rank, after listen() or a successful connect()).
  void start();
  // This process ends the job with a line of its own: the others stay silent.
  void announce_abort();
  // The end of a normal run (after MPI_Finalize): says goodbye and stops the thread.
  void finish();

 private:
  struct Link {
    int fd = -1;
    int rank = -1;            // -1: accepted, not yet identified (rank 0)
    std::string hello;        // rank 0: the bytes of the rank number received so far
    double last_heard = 0;    // seconds (steady clock)
    double closed_at = -1;    // when the connection closed without a goodbye
    bool finished = false;    // said goodbye
  };
  static Link make_link(int fd, int rank, double heard);
  void run();
  void accept_all(double now);
  void read_from(Link& link, double now);
  void take_byte(Link& link, char byte, double now);
  void close_link(Link& link);
  void check(double now);
  bool has_witness(int peer_rank) const;  // another rank on the peer's host may name it (peer_watch)
  [[noreturn]] void end_job(int peer_rank, const std::string& what);
  void send_to_all(char byte);
  Link* link_of(int peer_rank);

  int rank_;
  std::vector<Peer> peers_;
  double timeout_, interval_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: finish() wakes the thread at once
  // Only the thread touches these after start(). Rank 0: one link per other rank (fd -1 until it
  // connects) and the connections not yet identified; rank r: the one link to rank 0.
  std::vector<Link> links_, pending_;
  std::mutex fds_mutex_;
  std::vector<int> fds_;  // the identified links' open sockets: announce_abort() writes there too
  std::atomic<bool> quiet_{false};  // a line about this job is already printed
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  double started_ = 0;
};

}  // namespace weft::detail
