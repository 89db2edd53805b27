#include "peer_watch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <utility>

namespace weft::detail {
namespace {

// Everything the handler reads is fixed before it is installed: it may only make
// async-signal-safe calls (open, read, write, kill, nanosleep), so no allocation or stdio.
constexpr int max_local = 256;
struct Local {
  int rank;
  pid_t pid;
};
Local local[max_local];
int local_count = 0;
int own_rank = 0, world = 1;
char host[64] = "";
// A local peer (or this process) is ending the job itself (SIGUSR1). Atomic: the liveness thread
// reads it too; lock-free, so the signal handlers may touch it.
std::atomic<int> peer_aborts{0};
static_assert(std::atomic<int>::is_always_lock_free);
// The same news in memory that this host's ranks share (share_host_flag), set before the SIGUSR1s
// go out: a SIGTERM handler sees it at once, whichever thread takes which signal. Null when the
// shared memory could not be set up: then SIGUSR1 alone (peer_abort_seen_after_a_moment).
std::atomic<int>* host_aborts = nullptr;

bool abort_seen() { return peer_aborts != 0 || (host_aborts && host_aborts->load() != 0); }

// Whether process `pid` has ended (gone, or a zombie not yet reaped by mpirun).
bool ended(pid_t pid) {
  char path[32] = "/proc/";
  char digits[16];
  int n = 0;
  for (unsigned v = static_cast<unsigned>(pid); n == 0 || v; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  int at = 6;
  while (n) path[at++] = digits[--n];
  std::memcpy(path + at, "/stat", 6);
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return true;
  char stat[512];
  const ssize_t got = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (got <= 0) return true;
  stat[got] = 0;
  const char* close_paren = std::strrchr(stat, ')');  // the command name may hold spaces or parentheses
  return !close_paren || close_paren[1] != ' ' || close_paren[2] == 'Z' || close_paren[2] == 'X';
}

void append(char*& out, const char* text) {
  while (*text) *out++ = *text++;
}

void append(char*& out, long value) {
  char digits[24];
  int n = 0;
  for (unsigned long v = static_cast<unsigned long>(value); n == 0 || v; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  while (n) *out++ = digits[--n];
}

// Whether a local peer ends the job itself, without the shared flag. It sends SIGUSR1 before it
// exits, and mpirun's SIGTERM comes after: a running process has handled the SIGUSR1 long before.
// A stopped one (SIGSTOP, as a dropped host is simulated) finds both waiting when it continues,
// and another of its threads may take the SIGUSR1 while this one takes the SIGTERM (which printed
// a second line, "rank 0 died", after "rank 1 has sent nothing"): that thread gets a moment to
// run the handler, and a SIGUSR1 still pending interrupts the sleep here.
bool peer_abort_seen_after_a_moment() {
  for (int slice = 0; slice < 10 && !abort_seen(); ++slice) {
    const timespec moment{0, 10'000'000};
    nanosleep(&moment, nullptr);
  }
  return abort_seen();
}

void on_sigterm(int) {
  const Local* dead = nullptr;
  int lowest_alive = -1;
  for (int i = 0; i < local_count; ++i) {
    const bool gone = local[i].rank != own_rank && ended(local[i].pid);
    if (gone && !dead) dead = &local[i];
    if (!gone && lowest_alive < 0) lowest_alive = local[i].rank;  // local[] ascends by rank
  }
  if (dead && lowest_alive == own_rank && !(host_aborts ? abort_seen() : peer_abort_seen_after_a_moment())) {
    char line[256];
    char* out = line;
    append(out, "weft: rank ");
    append(out, static_cast<long>(dead->rank));
    append(out, " of ");
    append(out, static_cast<long>(world));
    append(out, " (pid ");
    append(out, static_cast<long>(dead->pid));
    append(out, " on ");
    append(out, host);
    append(out, ") died; the other ranks stop (--resume continues from the last checkpoint)\n");
    [[maybe_unused]] const ssize_t written = write(STDERR_FILENO, line, static_cast<std::size_t>(out - line));
  }
  // The local peers look at this process too: stay alive a moment so none takes it for dead.
  const timespec pause{0, 200'000'000};
  nanosleep(&pause, nullptr);
  signal(SIGTERM, SIG_DFL);
  raise(SIGTERM);
}

void on_sigusr1(int) { peer_aborts = 1; }

// Maps host_aborts: the host's lowest rank creates a POSIX shared-memory object named after its
// pid, the others open it, and once every rank has mapped it the name goes (nothing is left in
// /dev/shm, whatever becomes of the job). `barrier` is called twice on every rank.
void share_host_flag(int rank, const std::function<void()>& barrier) {
  char name[48];
  std::snprintf(name, sizeof name, "/weft-peers-%ld", static_cast<long>(local[0].pid));
  const bool creator = local[0].rank == rank;
  const auto map = [](int fd) -> void* {
    void* flag = fd < 0 ? MAP_FAILED : mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd >= 0) close(fd);
    return flag;
  };
  if (creator) {
    shm_unlink(name);  // a leftover of a job that died between the two barriers, with this pid
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 && ftruncate(fd, sizeof(std::atomic<int>)) != 0) close(std::exchange(fd, -1));
    if (void* flag = map(fd); flag != MAP_FAILED) host_aborts = new (flag) std::atomic<int>(0);
  }
  barrier();
  if (!creator)  // the creator's object, seen through this process's mapping
    if (void* flag = map(shm_open(name, O_RDWR | O_CLOEXEC, 0)); flag != MAP_FAILED) host_aborts = static_cast<std::atomic<int>*>(flag);
  barrier();
  if (creator) shm_unlink(name);
}

}  // namespace

void watch_local_peers(int rank, const std::vector<Peer>& peers, const std::function<void()>& barrier) {
  own_rank = rank;
  world = static_cast<int>(peers.size());
  const std::string& mine = peers[static_cast<std::size_t>(rank)].host;
  std::strncpy(host, mine.c_str(), sizeof host - 1);
  for (std::size_t r = 0; r < peers.size() && local_count < max_local; ++r)
    if (peers[r].host == mine) local[local_count++] = {static_cast<int>(r), static_cast<pid_t>(peers[r].pid)};
  share_host_flag(rank, barrier);
  struct sigaction action {};
  action.sa_handler = on_sigusr1;
  sigemptyset(&action.sa_mask);
  sigaction(SIGUSR1, &action, nullptr);
  action.sa_handler = on_sigterm;
  sigaction(SIGTERM, &action, nullptr);
}

void tell_local_peers_this_rank_aborts() {
  peer_aborts = 1;
  if (host_aborts) host_aborts->store(1);
  for (int i = 0; i < local_count; ++i)
    if (local[i].rank != own_rank) kill(local[i].pid, SIGUSR1);
}

bool a_local_peer_aborts() { return abort_seen(); }

}  // namespace weft::detail
