// The transport and the gradient exchange under `mpirun -np K` (K >= 2), the measurements the cost
// model of docs/distributed.md is checked against (benchmarks/mpi_scaling runs this and the model):
//   pingpong bytes=N us=T      half the median round trip of an N-byte message between ranks 0
//                              and 1 (the others wait): latency and bandwidth of the transport;
//   exchange ranks=K params=P mode=chain|allreduce ms=T
//                              the median time of Executor::reduce_gradients over a one-layer
//                              model of P parameters with one shard per rank, all ranks starting
//                              together (a barrier before each): the exact rank-to-rank chain and
//                              the broadcast after it, or --fast-allreduce's MPI_Allreduce.
// Rank 0 prints; options: --params=P1,P2,... (default 225034,535818,2000000,8000000), --reps=N.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "weft/communicator.hpp"
#include "weft/executor.hpp"
#include "weft/rng.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Half the median round trip of `bytes` between ranks 0 and 1, in seconds (every rank returns it).
double pingpong(int rank, std::size_t bytes, int reps) {
  std::vector<char> buffer(std::max<std::size_t>(bytes, 1));
  const int count = static_cast<int>(bytes);
  std::vector<double> times;
  for (int i = 0; i < reps + 2; ++i) {  // two warm-up round trips
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = Clock::now();
    if (rank == 0) {
      MPI_Send(buffer.data(), count, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
      MPI_Recv(buffer.data(), count, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(buffer.data(), count, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buffer.data(), count, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
    }
    if (i >= 2) times.push_back(std::chrono::duration<double>(Clock::now() - start).count() / 2);
  }
  return median(times);
}

// A dense layer of about `params` parameters (1000 inputs), one training pass over one sample per
// rank, then the timed gradient reductions.
double exchange_seconds(weft::Communicator& comm, std::int64_t params, bool exact, int reps) {
  const std::int64_t inputs = 1000, units = std::max<std::int64_t>(1, params / (inputs + 1));
  weft::Model model({{"input", {inputs}}, {"layers", weft::Json::array({{{"type", "dense"}, {"units", units}}})}, {"loss", "mse"}});
  model.initialize(1);
  weft::Executor executor(model, {1, 1, false, &comm, exact});
  const std::int64_t batch = comm.size();
  weft::Tensor x(model.input_shape().with_batch(batch)), y(model.output_shape().with_batch(batch));
  const weft::CounterRng rng(5);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(i);
  executor.forward(x, true, 0, 0);
  executor.loss(y, true);
  executor.backward();
  std::vector<float> gradient(model.parameter_count());
  std::vector<double> times;
  for (int i = 0; i < reps + 1; ++i) {  // one warm-up
    MPI_Barrier(MPI_COMM_WORLD);
    const double before = executor.exchange_seconds();
    executor.reduce_gradients(gradient);
    if (i >= 1) times.push_back(executor.exchange_seconds() - before);
  }
  // Every rank's median may differ; report the slowest rank's, the one training waits for.
  double mine = median(times), slowest = 0;
  MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

std::vector<std::int64_t> parse_list(const char* text) {
  std::vector<std::int64_t> out;
  for (const char* p = text; *p;) {
    char* end = nullptr;
    out.push_back(std::strtoll(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p) break;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> params = {225034, 535818, 2000000, 8000000};  // fashion_cnn, fashion_mlp, bigger
  int reps = 15;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--params=", 9) == 0) params = parse_list(argv[i] + 9);
    else if (std::strncmp(argv[i], "--reps=", 7) == 0) reps = std::max(1, std::atoi(argv[i] + 7));
    else {
      std::fprintf(stderr, "mpi_exchange: unknown option '%s' (expected --params=P1,P2,... or --reps=N)\n", argv[i]);
      return 2;
    }
  }
  const auto comm = weft::launch_communicator();
  if (comm->size() < 2) {
    std::fprintf(stderr, "mpi_exchange: run it under mpirun with 2 or more processes (this is rank 0 of %d)\n",
                 comm->size());
    return 2;
  }
  const bool lead = comm->rank() == 0;
  for (std::size_t bytes : {std::size_t{8}, std::size_t{1} << 16, std::size_t{1} << 18, std::size_t{1} << 20,
                            std::size_t{1} << 22, std::size_t{1} << 23, std::size_t{1} << 24, std::size_t{1} << 25}) {
    const double seconds = pingpong(comm->rank(), bytes, bytes > (1 << 20) ? reps : 4 * reps);
    if (lead) std::printf("pingpong bytes=%zu us=%.3f\n", bytes, 1e6 * seconds);
  }
  for (const std::int64_t p : params)
    for (const bool exact : {true, false}) {
      const double seconds = exchange_seconds(*comm, p, exact, reps);
      if (lead)
        std::printf("exchange ranks=%d params=%lld mode=%s ms=%.3f\n", comm->size(), static_cast<long long>(p),
                    exact ? "chain" : "allreduce", 1e3 * seconds);
    }
  return 0;
}
