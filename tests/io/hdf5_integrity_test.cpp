// The HDF5 files weft writes protect their structure and text with checksums: text attributes
// are fixed-length strings in checksummed (version 2) object headers rather than in a global heap,
// which HDF5 reads unchecked — fuzz_checkpoint made HDF5 copy past its buffers with a corrupt heap
// object length, and a changed character in the heap was read back silently. Variable-length
// strings are therefore refused without being read.
#include <boost/test/unit_test.hpp>

#include <hdf5.h>

#include <fstream>
#include <iterator>

#include "hdf5_file.hpp"
#include "model_helpers.hpp"
#include "weft/io/checkpoint.hpp"

using weft::Json;
using weft::testing::error_of;

namespace {

const Json tiny_spec = {{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 2}}}}, {"loss", "mse"}, {"optimizer", "sgd"}};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_changed_character_in_a_checkpoints_text_is_an_error_not_a_silent_change) {
  weft::testing::TempDir dir;
  weft::Model model(tiny_spec);
  model.initialize(1);
  weft::io::TrainingState state;
  state.json = {{"step", 123456789}, {"epoch", 1}, {"history", Json::array()}};
  const std::string path = dir.file("c.h5");
  weft::io::save_checkpoint(path, model, state);

  // The step as the JSON state attribute spells it (the int attribute copy is binary).
  std::string bytes = read_bytes(path);
  const auto at = bytes.find("\"step\":123456789");
  BOOST_REQUIRE(at != std::string::npos);
  BOOST_CHECK_EQUAL(bytes.find("\"step\":123456789", at + 1), std::string::npos);
  bytes[at + 15] = '0';  // 123456789 -> 123456780
  write_bytes(path, bytes);

  const std::string error = error_of([&] { (void)weft::io::load_checkpoint(path); });
  BOOST_CHECK_MESSAGE(error.find(path) != std::string::npos && error.find("corrupt") != std::string::npos, error);
  BOOST_CHECK_EQUAL(error.find('\n'), std::string::npos);
}

BOOST_AUTO_TEST_CASE(text_attributes_are_fixed_length_strings_of_any_size) {
  weft::testing::TempDir dir;
  const std::string path = dir.file("a.h5");
  // 300 kB: more than an object header holds (64 kB); a long run's metrics history is this long.
  std::string long_text(300000, 'x');
  for (std::size_t i = 0; i < long_text.size(); i += 7) long_text[i] = char('a' + i % 26);
  {
    weft::io::H5File f(path, 'w');
    f.make_groups("/g");
    f.set_string_attribute("/g", "long", long_text);
    f.set_string_attribute("/g", "empty", "");
    f.set_string_attribute("/", "utf8", "µ-law → ok");
  }
  weft::io::H5File f(path, 'r');
  BOOST_CHECK(f.string_attribute("/g", "long") == long_text);
  BOOST_CHECK_EQUAL(f.string_attribute("/g", "empty"), "");
  BOOST_CHECK_EQUAL(f.string_attribute("/", "utf8"), "µ-law → ok");
  // Fixed length: no variable-length strings, so nothing of weft's text is in a global heap.
  BOOST_CHECK_EQUAL(read_bytes(path).find("GCOL"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_variable_length_string_attribute_is_refused_unread) {
  weft::testing::TempDir dir;
  const std::string path = dir.file("vlen.h5");
  {  // As h5py writes text by default: a variable-length string, in the global heap.
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate2(file, "format", type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* text = "weft-checkpoint";
    BOOST_REQUIRE(H5Awrite(attr, type, &text) >= 0);
    H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
    H5Fclose(file);
  }
  const std::string error = error_of([&] { (void)weft::io::load_checkpoint(path); });
  BOOST_CHECK_MESSAGE(error.find("attribute 'format' on '/' is a variable-length string") != std::string::npos, error);
}
