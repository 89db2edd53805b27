#include "weft/communicator.hpp"

#include <cstdio>
#include <cstdlib>

#include "weft/error.hpp"

namespace weft {

void SingleProcess::receive_from_previous(std::span<std::byte>) { throw Error("rank 0 of 1 has no previous rank"); }
void SingleProcess::send_to_next(std::span<const std::byte>) { throw Error("rank 0 of 1 has no next rank"); }

void SingleProcess::broadcast(std::span<std::byte>, int root) {
  if (root != 0) throw Error("broadcast from rank " + std::to_string(root) + " in a single process");
}

Communicator::Request SingleProcess::start_receive_from_previous(std::span<std::byte> data) {
  receive_from_previous(data);  // throws: no previous rank
  return 0;
}

Communicator::Request SingleProcess::start_send_to_next(std::span<const std::byte> data) {
  send_to_next(data);  // throws: no next rank
  return 0;
}

Communicator::Request SingleProcess::start_broadcast(std::span<std::byte> data, int root) {
  broadcast(data, root);  // the data is already everywhere
  return 0;
}

void SingleProcess::abort(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::exit(1);
}

}  // namespace weft
