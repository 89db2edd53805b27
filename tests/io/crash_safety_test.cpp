// Crash safety: a child process saves checkpoints in a loop and is killed (SIGKILL) at random
// moments; after every kill the checkpoint on disk loads and is one complete generation, never
// a mixture or a torn file; the next save removes the temporaries the killed writer left.
#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "model_helpers.hpp"
#include "weft/io/checkpoint.hpp"
#include "weft/rng.hpp"

using weft::Json;

namespace {

const Json crash_spec = {{"input", {20}},
                   {"layers", {{{"type", "dense"}, {"units", 64}}, {{"type", "relu"}}, {{"type", "dense"}, {"units", 10}}}},
                   {"loss", "cross_entropy"},
                   {"optimizer", {{"type", "adam"}}}};

float value_of(std::int64_t generation, std::size_t i) { return static_cast<float>(generation) + static_cast<float>(i) * 1e-3f; }

// Generation g: weights, optimizer slots and the step counter all derived from g, so a file that
// mixed two generations would be caught.
weft::io::TrainingState generation_state(weft::Model& model, std::int64_t g) {
  for (const auto& t : model.parameter_table())
    for (std::size_t i = t.offset; i < t.offset + t.size(); ++i) model.parameters()[i] = value_of(g, i);
  weft::io::TrainingState s;
  for (const auto& t : model.parameter_table())
    for (const char* slot : {"exp_avg", "exp_avg_sq"}) {
      weft::Tensor tensor(t.shape);
      for (std::size_t i = 0; i < tensor.size(); ++i) tensor[i] = value_of(g, t.offset + i);
      s.tensors.emplace_back(t.name + "/" + slot, std::move(tensor));
    }
  s.json = {{"step", g}, {"history", Json::array({Json::array({Json::array({"loss", static_cast<double>(g)})})})}};
  return s;
}

// The generation the file holds; fails the test when any part belongs to another one.
std::int64_t check_one_generation(const std::string& path) {
  const auto c = weft::io::load_checkpoint(path);
  const auto g = c.training.json.at("step").get<std::int64_t>();
  BOOST_CHECK_EQUAL(c.training.json["history"][0][0][1].get<double>(), static_cast<double>(g));
  for (const auto& t : c.model.parameter_table())
    for (std::size_t i = t.offset; i < t.offset + t.size(); ++i)
      if (c.model.parameters()[i] != value_of(g, i)) BOOST_FAIL("weight " << i << " is not from generation " << g);
  std::size_t k = 0;
  for (const auto& t : c.model.parameter_table())
    for (int slot = 0; slot < 2; ++slot, ++k)
      for (std::size_t i = 0; i < t.size(); ++i)
        if (c.training.tensors[k].second[i] != value_of(g, t.offset + i))
          BOOST_FAIL("optimizer tensor " << c.training.tensors[k].first << " is not from generation " << g);
  return g;
}

std::size_t temporaries_in(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().find(".weft-tmp.") != std::string::npos) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_writer_killed_at_any_moment_leaves_a_complete_checkpoint) {
  weft::testing::TempDir dir;
  const std::string path = dir.file("run.h5");
  weft::Model model(crash_spec);
  weft::io::save_checkpoint(path, model, generation_state(model, 0));

  const weft::CounterRng rng(2024);
  std::int64_t last = 0, next = 1;
  int killed_with_temporary = 0;
  for (int round = 0; round < 30; ++round) {
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
      // Saves generation after generation until killed.
      for (std::int64_t g = next;; ++g) weft::io::save_checkpoint(path, model, generation_state(model, g));
    }
    // Up to 40 ms: long enough for several saves, and a kill lands in a different phase each time.
    std::this_thread::sleep_for(std::chrono::microseconds(rng.below(static_cast<std::uint64_t>(round), 40000)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    if (temporaries_in(dir.path()) > 0) ++killed_with_temporary;

    const auto g = check_one_generation(path);
    BOOST_CHECK_GE(g, last);  // never older than what was on disk before
    last = g;
    next = g + 1000;  // the next child's generations are distinct from everything on disk
  }
  // Most kills hit a save in progress (the child does nothing else), leaving its temporary.
  BOOST_TEST_MESSAGE(killed_with_temporary << " of 30 kills left a temporary file");
  BOOST_CHECK_GT(killed_with_temporary, 0);

  // The next save removes what the killed writers left, and nothing else lies around.
  weft::io::save_checkpoint(path, model, generation_state(model, next));
  BOOST_CHECK_EQUAL(temporaries_in(dir.path()), 0u);
  BOOST_CHECK_EQUAL(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
  BOOST_CHECK_EQUAL(check_one_generation(path), next);
}
