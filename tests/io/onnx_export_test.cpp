// weft::io::export_onnx from C++: what the file says about the model (its strings are stored
// verbatim by protobuf, so they can be found in the bytes), and refusals that leave no file.
// The numbers themselves are checked in another runtime by tests/onnx (onnx.checker, OpenCV).
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "model_helpers.hpp"
#include "weft/io/onnx_export.hpp"

using weft::Json;
using weft::testing::error_of;

namespace {

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_exported_classifier_names_its_interface_and_carries_its_spec) {
  weft::testing::TempDir dir;
  weft::Model model(weft::testing::small_classifier_spec({{"type", "sgd"}}));
  model.initialize(3);
  const std::string path = dir.file("m.onnx");
  if (!weft::io::onnx_export_available()) {
    BOOST_CHECK_NE(error_of([&] { weft::io::export_onnx(model, path); }).find("built without ONNX export"), std::string::npos);
    BOOST_CHECK(!std::filesystem::exists(path));
    return;
  }
  weft::io::export_onnx(model, path);
  const std::string file = bytes_of(path);
  for (const std::string& part : {std::string("input"), std::string("output"), std::string("probabilities"), std::string("batch"),
                                  std::string("weft_version"), std::string("Softmax"), std::string("Gemm"), model.spec().dump()})
    BOOST_CHECK_MESSAGE(file.find(part) != std::string::npos, "the file lacks '" + part + "'");
  // Every parameter is in the file, as raw float32 bytes: the head's weight among them.
  const auto& head = model.parameter_table()[2];
  BOOST_REQUIRE_EQUAL(head.name, "head/weight");
  const std::string weight(reinterpret_cast<const char*>(model.parameters().data() + head.offset), head.size() * sizeof(float));
  BOOST_CHECK(file.find(weight) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_layer_without_an_equivalent_is_refused_and_leaves_the_old_file) {
  if (!weft::io::onnx_export_available()) return;  // the case above checks the refusal of such a build
  weft::testing::TempDir dir;
  const Json spec = {{"input", {1, 2, 2, 2, 2}},
                     {"layers", {{{"type", "conv"}, {"dims", 4}, {"filters", 1}, {"kernel", 1}, {"name", "deep"}}}},
                     {"loss", "mse"}};
  weft::Model model(spec);
  const std::string path = dir.file("m.onnx");
  { std::ofstream(path) << "previous"; }
  const std::string message = error_of([&] { weft::io::export_onnx(model, path); });
  BOOST_CHECK_MESSAGE(message.find("layer 'deep' (conv) has no ONNX equivalent") != std::string::npos, message);
  BOOST_CHECK_EQUAL(bytes_of(path), "previous");
  BOOST_CHECK_EQUAL(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}
