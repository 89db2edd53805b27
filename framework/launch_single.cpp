// launch_communicator() of a libweft built without Open MPI (the `mpi` option disabled or the
// library not found): always the single process.
#include "weft/communicator.hpp"

namespace weft {

std::unique_ptr<Communicator> launch_communicator(double) { return std::make_unique<SingleProcess>(); }
bool built_with_mpi() { return false; }

}  // namespace weft
