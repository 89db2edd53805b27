// weft export MODEL.h5 [-o OUT.h5] [--onnx OUT.onnx]: the model of a checkpoint or model file
// (spec, weights, buffers and the input preparation) without the training state, as a weft
// model file for inference (-o) and/or as an ONNX model for other runtimes (--onnx, see
// weft/io/onnx_export.hpp).
#include <cstdio>

#include "commands.hpp"
#include "weft/io/model_file.hpp"
#include "weft/io/onnx_export.hpp"

namespace weft::cli {

Command add_export(CLI::App& app) {
  struct Args {
    std::string model, out, onnx;
  };
  auto args = std::make_shared<Args>();
  auto* ex = app.add_subcommand("export", "write the inference model of a checkpoint or model file (weft file or ONNX)");
  ex->add_option("model", args->model, "checkpoint or model file (HDF5) written by weft train")->required();
  ex->add_option("-o,--out", args->out, "the weft model file to write");
  ex->add_option("--onnx", args->onnx, "the ONNX model to write (opset 13, input \"input\", outputs \"output\", \"probabilities\")");
  return [args] {
    if (args->out.empty() && args->onnx.empty()) throw Error("weft export: give -o MODEL.h5, --onnx MODEL.onnx or both");
    const Model model = io::load_model(args->model);
    const io::DataState data = io::load_data_state(args->model);
    // ONNX first: it may refuse a layer, and then nothing at all is written.
    if (!args->onnx.empty()) io::export_onnx(model, args->onnx, data);
    if (!args->out.empty()) io::save_model(model, args->out, data);
    for (const auto* target : {&args->onnx, &args->out})
      if (!target->empty()) std::printf("exported the model of %s to %s\n", args->model.c_str(), target->c_str());
    return 0;
  };
}

}  // namespace weft::cli
