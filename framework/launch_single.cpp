// launch_communicator() of a libweft built without Open MPI (the `mpi` option disabled or the
// library not found): always the single process.
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "weft/communicator.hpp"
#include "weft/error.hpp"

namespace weft {

std::unique_ptr<Communicator> launch_communicator(double) {
  // Started by mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE in each process), this build would run
  // K copies of the whole job that each write the same files: refuse. Rank 0 says why; the
  // others give it a second to end the job first, so the line appears once.
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (size && std::string(size) != "1") {
    const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
    if (rank && std::string(rank) != "0") std::this_thread::sleep_for(std::chrono::seconds(1));
    throw Error(std::string("this weft was built without Open MPI, so each of the ") + size +
                " processes mpirun started would train the whole job alone: rebuild with Open MPI (libopenmpi-dev, "
                "the meson option mpi) or run one process");
  }
  return std::make_unique<SingleProcess>();
}

bool built_with_mpi() { return false; }

}  // namespace weft
