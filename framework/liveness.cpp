#include "liveness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

namespace weft::detail {
namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", std::round(s * 10) / 10);
  return text;
}

void send_byte(int fd, char byte) {
  // Never blocks (a stopped peer's buffer may be full: a heartbeat more or less changes nothing)
  // and never raises SIGPIPE (a peer that is gone).
  [[maybe_unused]] const ssize_t sent = ::send(fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

// This host's IPv4 addresses of interfaces that are up, the loopback last.
std::vector<std::uint32_t> own_addresses() {
  std::vector<std::uint32_t> outside, loopback;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (const ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !(a->ifa_flags & IFF_UP)) continue;
      const std::uint32_t ip = reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr;
      ((a->ifa_flags & IFF_LOOPBACK) ? loopback : outside).push_back(ip);
    }
    ::freeifaddrs(list);
  }
  if (loopback.empty()) loopback.push_back(htonl(INADDR_LOOPBACK));
  outside.insert(outside.end(), loopback.begin(), loopback.end());
  return outside;
}

// A TCP connection to ip:port within `seconds`, or -1.
int connect_within(std::uint32_t ip, std::uint16_t port, double seconds) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = ip;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) return fd;
  if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t size = sizeof error;
    if (::poll(&p, 1, static_cast<int>(seconds * 1000)) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 &&
        error == 0)
      return fd;
  }
  ::close(fd);
  return -1;
}

}  // namespace

Liveness::Link Liveness::make_link(int fd, int rank, double heard) {
  Link link;
  link.fd = fd;
  link.rank = rank;
  link.last_heard = heard;
  return link;
}

Liveness::Liveness(int rank, std::vector<Peer> peers, double timeout_seconds)
    : rank_(rank), peers_(std::move(peers)), timeout_(timeout_seconds), interval_(std::min(1.0, timeout_seconds / 4)) {
  started_ = seconds_now();
  if (::pipe2(wake_, O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
}

Liveness::~Liveness() { finish(); }

LivenessContact Liveness::listen() {
  LivenessContact contact;
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t size = sizeof any;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0 ||
      ::listen(listener_, SOMAXCONN) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&any), &size) != 0)
    return contact;  // port 0: no rank can connect, and each says so
  contact.port = ntohs(any.sin_port);
  const auto addresses = own_addresses();
  for (const std::uint32_t ip : addresses)
    if (contact.count < std::size(contact.ipv4)) contact.ipv4[contact.count++] = ip;
  // Every other rank is watched from the start: one that never connects is silent.
  for (int r = 1; r < static_cast<int>(peers_.size()); ++r) links_.push_back(make_link(-1, r, started_));
  return contact;
}

std::string Liveness::connect(const LivenessContact& contact) {
  // On rank 0's host the loopback is tried first: it works where nothing else may.
  std::vector<std::uint32_t> order(contact.ipv4, contact.ipv4 + std::min<std::uint32_t>(contact.count, 8));
  if (peers_[static_cast<std::size_t>(rank_)].host == peers_[0].host)
    std::stable_partition(order.begin(), order.end(), [](std::uint32_t ip) { return ip == htonl(INADDR_LOOPBACK); });
  std::string tried;
  for (const std::uint32_t ip : order) {
    char text[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &ip, text, sizeof text);
    tried += (tried.empty() ? "" : ", ") + std::string(text) + ":" + std::to_string(contact.port);
    if (contact.port == 0) break;
    const int fd = connect_within(ip, static_cast<std::uint16_t>(contact.port), 3.0);
    if (fd < 0) continue;
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // a heartbeat is one byte: send it now
    const auto hello = std::to_string(rank_) + "\n";
    if (::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(hello.size())) {
      ::close(fd);
      continue;
    }
    links_.push_back(make_link(fd, 0, seconds_now()));
    fds_.push_back(fd);
    return "";
  }
  return contact.port == 0 ? "rank 0 could not open a listening TCP socket"
                           : "no TCP connection to rank 0 at " + (tried.empty() ? std::string("no address") : tried);
}

void Liveness::start() { thread_ = std::thread([this] { run(); }); }

void Liveness::send_to_all(char byte) {
  const std::lock_guard lock(fds_mutex_);
  for (const int fd : fds_) send_byte(fd, byte);
}

void Liveness::announce_abort() {
  quiet_ = true;
  send_to_all('A');
}

void Liveness::finish() {
  if (thread_.joinable()) {
    stopping_ = true;
    send_to_all('B');
    if (wake_[1] >= 0) [[maybe_unused]] const ssize_t woken = ::write(wake_[1], "x", 1);
    thread_.join();
  }
  for (Link& link : links_) close_link(link);
  for (Link& link : pending_) close_link(link);
  for (int* fd : {&listener_, &wake_[0], &wake_[1]})
    if (*fd >= 0) ::close(std::exchange(*fd, -1));
}

Liveness::Link* Liveness::link_of(int peer_rank) {
  for (Link& link : links_)
    if (link.rank == peer_rank) return &link;
  return nullptr;
}

void Liveness::close_link(Link& link) {
  if (link.fd < 0) return;
  {
    const std::lock_guard lock(fds_mutex_);
    std::erase(fds_, link.fd);
  }
  ::close(std::exchange(link.fd, -1));
}

void Liveness::run() {
  double next_beat = seconds_now();
  std::vector<pollfd> polls;
  while (!stopping_) {
    double now = seconds_now();
    if (now >= next_beat) {
      send_to_all('H');
      next_beat = now + interval_;
    }
    polls.clear();
    if (wake_[0] >= 0) polls.push_back({wake_[0], POLLIN, 0});
    if (listener_ >= 0) polls.push_back({listener_, POLLIN, 0});
    for (const auto* group : {&links_, &pending_})
      for (const Link& link : *group)
        if (link.fd >= 0) polls.push_back({link.fd, POLLIN, 0});
    // Awake at the next heartbeat or the moment a peer's silence passes the timeout, whichever
    // comes first: judged only at heartbeats, a silence was named up to an interval late (2.5 s
    // for --peer-timeout 2), and ranks watching rank 0 judged it at moments apart.
    double wake = next_beat;
    for (const Link& link : links_)
      if (!link.finished && link.closed_at < 0) wake = std::min(wake, link.last_heard + timeout_);
    ::poll(polls.data(), polls.size(), std::max(1, static_cast<int>(std::ceil((wake - now) * 1000)) + 1));
    if (stopping_) break;
    // Everything that arrived is read before any silence is judged: a process that was stopped
    // itself finds its peers' heartbeats waiting, and does not take them for silent.
    now = seconds_now();
    if (listener_ >= 0) accept_all(now);
    for (std::size_t i = 0; i < pending_.size(); ++i) read_from(pending_[i], now);  // may move into links_
    std::erase_if(pending_, [&](Link& link) {
      if (link.fd >= 0 && now - link.last_heard > timeout_) ::close(std::exchange(link.fd, -1));  // not a weft rank
      return link.fd < 0;  // identified, or dropped
    });
    for (Link& link : links_) read_from(link, now);
    check(now);
  }
}

void Liveness::accept_all(double now) {
  for (;;) {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    pending_.push_back(make_link(fd, -1, now));
  }
}

void Liveness::read_from(Link& link, double now) {
  char bytes[256];
  while (link.fd >= 0) {
    const ssize_t got = ::recv(link.fd, bytes, sizeof bytes, MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (got <= 0) {  // closed (or reset): the process is gone, unless it said goodbye
      if (!link.finished && link.rank >= 0) link.closed_at = now;
      if (link.rank < 0) ::close(link.fd);  // never identified: not in fds_
      else close_link(link);
      link.fd = -1;
      return;
    }
    Link* to = &link;
    for (ssize_t i = 0; i < got && to->fd >= 0; ++i) {
      if (to->rank >= 0) {
        take_byte(*to, bytes[i], now);
        continue;
      }
      // Rank 0, a new connection: "R\n" says which rank it is; then it is that rank's link.
      if (bytes[i] != '\n') {
        to->hello += bytes[i];
        if (to->hello.size() > 12 || !std::isdigit(static_cast<unsigned char>(bytes[i]))) ::close(std::exchange(to->fd, -1));
        continue;
      }
      // Checked, never thrown: a number too large for an int (a stranger's bytes) would end rank 0.
      int claimed = -1;
      const char* end = to->hello.data() + to->hello.size();
      const auto [stop, error] = std::from_chars(to->hello.data(), end, claimed);
      if (error != std::errc() || stop != end) claimed = -1;
      Link* slot = link_of(claimed);
      if (!slot || slot->fd >= 0 || slot->finished || slot->closed_at >= 0) {
        ::close(std::exchange(to->fd, -1));  // not a rank of this job, or one already connected
        continue;
      }
      slot->fd = std::exchange(to->fd, -1);
      slot->last_heard = now;
      {
        const std::lock_guard lock(fds_mutex_);
        fds_.push_back(slot->fd);
      }
      if (quiet_) send_byte(slot->fd, 'A');
      to = slot;
    }
    if (to != &link) return;  // the pending entry is spent; the rank's link is read next
  }
}

void Liveness::take_byte(Link& link, char byte, double now) {
  link.last_heard = now;
  if (byte == 'B') link.finished = true;
  if (byte == 'A' && !quiet_.exchange(true) && rank_ == 0) send_to_all('A');  // rank 0 tells every rank
}

bool Liveness::has_witness(int peer_rank) const {
  const std::string& host = peers_[static_cast<std::size_t>(peer_rank)].host;
  for (int q = 0; q < static_cast<int>(peers_.size()); ++q) {
    if (q == peer_rank || peers_[static_cast<std::size_t>(q)].host != host) continue;
    if (q == rank_ || rank_ != 0) return true;  // this process, or one rank r cannot see
    for (const Link& link : links_)
      if (link.rank == q && link.closed_at < 0) return true;
  }
  return false;
}

void Liveness::check(double now) {
  // A process gone is reported by mpirun's teardown and peer_watch within about a second when a
  // rank on its host survives; this waits a little longer before naming it itself.
  const double grace = std::min(timeout_, 3.0);
  for (const Link& link : links_) {
    if (link.finished) continue;
    if (link.closed_at >= 0) {
      if (!has_witness(link.rank) || now - link.closed_at > grace)
        end_job(link.rank, "died (its connection to rank " + std::to_string(link.rank == 0 ? rank_ : 0) + " closed)");
    } else if (now - link.last_heard > timeout_) {
      end_job(link.rank, std::string(link.fd < 0 && link.closed_at < 0 ? "never connected" : "has sent nothing") + " for " +
                             seconds_text(now - link.last_heard) + " s (its host down, cut off or the process stopped)");
    }
  }
}

void Liveness::end_job(int peer_rank, const std::string& what) {
  // When rank 0 is silent every other rank sees it at about the same time: the lower ranks speak
  // first, and a rank whose local peer already ended the job (peer_watch.hpp) stays silent.
  for (int wait = 0; wait < std::min(rank_ - 1, 40); ++wait) {
    if (a_local_peer_aborts()) break;
    ::usleep(100'000);
  }
  const bool speak = !quiet_.exchange(true) && !a_local_peer_aborts();
  tell_local_peers_this_rank_aborts();
  send_to_all('A');
  if (::ftrylockfile(stdout) == 0) {  // rank 0's progress so far, unless the main thread is printing
    std::fflush(stdout);
    ::funlockfile(stdout);
  }
  if (speak) {
    const Peer& peer = peers_[static_cast<std::size_t>(peer_rank)];
    const std::string line = "weft: rank " + std::to_string(peer_rank) + " of " + std::to_string(peers_.size()) + " (pid " +
                             std::to_string(peer.pid) + " on " + peer.host + ") " + what +
                             "; the other ranks stop (--resume continues from the last checkpoint)\n";
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
  }
  // Not MPI_Abort: only the main thread calls MPI (MPI_THREAD_FUNNELED), and it may be blocked in
  // a call waiting for the silent rank. A process that ends without MPI_Finalize makes mpirun
  // stop the whole job.
  ::_exit(1);
}

}  // namespace weft::detail
