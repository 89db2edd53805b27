// A layer with a data race on purpose, run through the executor's shards: the ThreadSanitizer
// build must report it. Proves that build sees races in layer code running on oneTBB's workers
// (libtbb instrumented too, so its hand-offs are real happens-before edges, not blind spots), and
// so that its clean runs of the framework and trainer suites mean something.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "weft/executor.hpp"
#include "weft/registry.hpp"
#include "weft/sequential.hpp"

namespace {

// Counts forward calls in a plain int shared by every shard: the race TSan must name.
int forward_calls = 0;

class RacyIdentity final : public weft::Layer {
 public:
  weft::Shape infer(const weft::Shape& input) override { return input; }
  void forward(const weft::ForwardArgs& a) const override {
    // A shard of four floats takes microseconds: on a loaded machine the main thread could run a
    // whole pass before the sleeping worker wakes, and TSan would see no overlap at all. A
    // millisecond per shard gives the worker time to steal, so both threads touch the counter
    // in every pass (sleep is not synchronisation to TSan: the race is still reported).
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++forward_calls;
    std::copy(a.x.data(), a.x.data() + a.x.size(), a.y.data());
  }
  void backward(const weft::BackwardArgs& a) const override {
    if (!a.dx.empty()) std::copy(a.dy.data(), a.dy.data() + a.dy.size(), a.dx.data());
  }
};

}  // namespace

int main() {
  weft::registry().layers.add({"racy_identity", "test only", weft::Json::object(),
                               [](const weft::Config&) { return std::make_unique<RacyIdentity>(); }});
  weft::Model model = weft::Sequential(weft::Shape{4})
                          .add("racy_identity")
                          .add(weft::dense(2))
                          .loss("mse")
                          .optimizer("sgd")
                          .build();
  // Eight shards on two workers: every pass runs shards on both threads at once.
  weft::Executor executor(model, {.shard_size = 1, .threads = 2});
  weft::Tensor x(weft::Shape{8, 4});
  for (int pass = 0; pass < 20; ++pass) executor.forward(x.view(), true, pass, 1);
  std::printf("forward calls counted: %d\n", forward_calls);
  return 0;
}
