#pragma once
// One line naming the rank that died, for a data-parallel run under mpirun (launch_mpi.cpp).
//
// When a rank dies (killed, crashed, out of memory), Open MPI ends the others with SIGTERM and
// prints a banner of several lines (`mpirun --quiet`: nothing). Every rank knows the pids of the
// ranks on its own host; on SIGTERM it looks which of them are gone, and the lowest-numbered
// rank still alive on that host prints "weft: rank R of K (pid P on HOST) died; ...". A whole
// host that drops leaves no rank on it to tell: mpirun's own report (without --quiet) names it.
// Internal to libweft's MPI launcher.
#include <functional>
#include <string>
#include <vector>

namespace weft::detail {

struct Peer {
  std::string host;
  int pid = 0;
};

// Installs the SIGTERM handler for rank `rank` of peers.size() (peers[r]: where rank r runs).
// Every rank calls it; `barrier` waits for all of them (the ranks of a host share a flag).
void watch_local_peers(int rank, const std::vector<Peer>& peers, const std::function<void()>& barrier);
// Before this rank ends the job itself (it printed why): its local peers stay silent, and so does
// this process's own SIGTERM handler.
void tell_local_peers_this_rank_aborts();
// Whether a local peer said it ends the job itself (the line is printed: add none).
bool a_local_peer_aborts();

}  // namespace weft::detail
