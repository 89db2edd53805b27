// Built with -Donnx=disabled, or without protoc / libprotobuf-dev / libonnx-dev.
#include "weft/error.hpp"
#include "weft/io/onnx_export.hpp"

namespace weft::io {

bool onnx_export_available() { return false; }

void export_onnx(const Model&, const std::string& path, const DataState&) {
  throw Error("cannot write '" + path +
              "': this weft was built without ONNX export (it needs protobuf-compiler, libprotobuf-dev and libonnx-dev "
              "when configured, and Meson option onnx not disabled)");
}

}  // namespace weft::io
