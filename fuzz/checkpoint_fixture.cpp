// Writes a small valid checkpoint: the seed of fuzz_checkpoint's corpus (scripts/fuzz).
#include <cstdio>

#include "weft/io/checkpoint.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: checkpoint_fixture OUT.h5\n");
    return 2;
  }
  const weft::Json spec = {{"input", {3}},
                           {"layers", {{{"type", "dense"}, {"units", 2}}, {{"type", "relu"}}}},
                           {"loss", "mse"},
                           {"optimizer", {{"type", "adam"}}}};
  weft::Model model(spec);
  model.initialize(1);
  weft::io::TrainingState state;
  for (const auto& t : model.parameter_table())
    for (const char* slot : {"exp_avg", "exp_avg_sq"}) state.tensors.emplace_back(t.name + "/" + slot, weft::Tensor(t.shape, 0.5f));
  state.json = {{"step", 3}, {"epoch", 1}, {"history", weft::Json::array()}};
  // Early stopping's group too, best weights included, so mutations reach its reader.
  weft::EarlyStoppingState early;
  early.json = {{"monitor", "val_loss"}, {"best", 0.5}, {"best_epoch", 1}, {"wait", 0}, {"epochs_seen", 1}};
  early.best_parameters.assign(model.parameters().begin(), model.parameters().end());
  early.best_buffers.assign(model.buffers().begin(), model.buffers().end());
  state.early_stopping = early;
  weft::io::save_checkpoint(argv[1], model, state);
  return 0;
}
