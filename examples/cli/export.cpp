// weft export CKPT.h5 -o MODEL.h5: the model of a checkpoint (spec, weights, buffers and the
// input preparation) without the training state, for inference.
#include <cstdio>

#include "commands.hpp"
#include "weft/io/model_file.hpp"

namespace weft::cli {

Command add_export(CLI::App& app) {
  struct Args {
    std::string checkpoint, out;
  };
  auto args = std::make_shared<Args>();
  auto* ex = app.add_subcommand("export", "write the weights-only model file of a checkpoint");
  ex->add_option("checkpoint", args->checkpoint, "checkpoint (HDF5) written by weft train")->required();
  ex->add_option("-o,--out", args->out, "the model file to write")->required();
  return [args] {
    const Model model = io::load_model(args->checkpoint);
    io::save_model(model, args->out, io::load_data_state(args->checkpoint));
    std::printf("exported the model of %s to %s\n", args->checkpoint.c_str(), args->out.c_str());
    return 0;
  };
}

}  // namespace weft::cli
