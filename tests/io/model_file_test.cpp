// HDF5 model files: exact round trip, strict loading, atomic replacement.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "hdf5_file.hpp"
#include "model_helpers.hpp"
#include "weft/io/model_file.hpp"
#include "weft/trainer.hpp"

using weft::Json;
using weft::testing::error_of;

namespace {

const Json spec = weft::testing::small_classifier_spec({{"type", "adam"}});

weft::Tensor inputs() {
  weft::Tensor x(weft::Shape{9, 6});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i));
  return x;
}


}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_gives_bit_identical_predictions) {
  weft::testing::TempDir dir;
  weft::Model model(spec);
  model.initialize(11);
  weft::Trainer trainer(model, {});
  const auto before = trainer.predict(inputs());
  weft::io::save_model(model, dir.file("m.h5"));

  weft::Model loaded = weft::io::load_model(dir.file("m.h5"));
  BOOST_CHECK(loaded.spec() == model.spec());
  weft::Trainer again(loaded, {});
  const auto after = again.predict(inputs());
  BOOST_REQUIRE_EQUAL(before.size(), after.size());
  BOOST_CHECK(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)) == 0);
}

BOOST_AUTO_TEST_CASE(weights_use_pytorch_layout_under_layer_names) {
  weft::testing::TempDir dir;
  weft::Model model(spec);
  weft::io::save_model(model, dir.file("m.h5"));
  weft::io::H5File f(dir.file("m.h5"), 'r');
  BOOST_CHECK(f.dataset_shape("/weights/dense_0/weight") == (weft::Shape{5, 6}));
  BOOST_CHECK(f.dataset_shape("/weights/head/bias") == (weft::Shape{3}));
  BOOST_CHECK_EQUAL(f.string_attribute("/", "format"), "weft");
  BOOST_CHECK_EQUAL(f.int_attribute("/", "format_version"), 1);
}

BOOST_AUTO_TEST_CASE(files_that_are_not_weft_models_are_refused_with_one_line) {
  weft::testing::TempDir dir;
  std::ofstream(dir.file("text.h5")) << "not an hdf5 file at all";
  auto msg = error_of([&] { weft::io::load_model(dir.file("text.h5")); });
  BOOST_CHECK_MESSAGE(msg.find("is not an HDF5 file") != std::string::npos, msg);

  msg = error_of([&] { weft::io::load_model(dir.file("absent.h5")); });
  BOOST_CHECK_MESSAGE(msg.find("no such file") != std::string::npos, msg);

  { weft::io::H5File foreign(dir.file("foreign.h5"), 'w'); foreign.make_groups("/data"); }
  msg = error_of([&] { weft::io::load_model(dir.file("foreign.h5")); });
  BOOST_CHECK_MESSAGE(msg.find("not a weft model") != std::string::npos, msg);

  weft::Model model(spec);
  weft::io::save_model(model, dir.file("m.h5"));
  std::filesystem::resize_file(dir.file("m.h5"), std::filesystem::file_size(dir.file("m.h5")) / 2);
  msg = error_of([&] { weft::io::load_model(dir.file("m.h5")); });
  BOOST_CHECK_MESSAGE(msg.find("truncated or corrupt") != std::string::npos, msg);
  BOOST_CHECK(msg.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_extra_and_misshapen_tensors_are_named) {
  weft::testing::TempDir dir;
  weft::Model model(spec);
  auto write_with = [&](const std::string& name, const std::function<void(weft::io::H5File&)>& tweak) {
    weft::io::H5File f(dir.file(name), 'w');
    f.set_string_attribute("/", "format", "weft");
    f.set_int_attribute("/", "format_version", 1);
    f.set_string_attribute("/", "spec", model.spec().dump());
    for (const auto& t : model.parameter_table())
      if (t.name != "head/bias") f.write_floats("/weights/" + t.name, t.shape, model.parameters().data() + t.offset);
    tweak(f);
  };
  write_with("missing.h5", [](weft::io::H5File&) {});
  auto msg = error_of([&] { weft::io::load_model(dir.file("missing.h5")); });
  BOOST_CHECK_MESSAGE(msg.find("missing tensor '/weights/head/bias'") != std::string::npos, msg);

  const float zeros[4] = {};
  write_with("shape.h5", [&](weft::io::H5File& f) { f.write_floats("/weights/head/bias", weft::Shape{4}, zeros); });
  msg = error_of([&] { weft::io::load_model(dir.file("shape.h5")); });
  BOOST_CHECK_MESSAGE(msg.find("'/weights/head/bias' has shape (4), expected (3)") != std::string::npos, msg);

  write_with("extra.h5", [&](weft::io::H5File& f) {
    f.write_floats("/weights/head/bias", weft::Shape{3}, zeros);
    f.write_floats("/weights/head/gain", weft::Shape{3}, zeros);
  });
  msg = error_of([&] { weft::io::load_model(dir.file("extra.h5")); });
  BOOST_CHECK_MESSAGE(msg.find("unexpected tensor '/weights/head/gain'") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(a_failed_save_keeps_the_file_already_on_disk) {
  weft::testing::TempDir dir;
  weft::Model model(spec);
  model.initialize(1);
  weft::io::save_model(model, dir.file("m.h5"));
  const auto size = std::filesystem::file_size(dir.file("m.h5"));
  BOOST_CHECK_THROW(weft::io::write_atomically(dir.file("m.h5"), [](const std::string&) { throw weft::IoError("disk full"); }),
                    weft::IoError);
  BOOST_CHECK_EQUAL(std::filesystem::file_size(dir.file("m.h5")), size);
  BOOST_CHECK_NO_THROW(weft::io::load_model(dir.file("m.h5")));
  // No temporary left behind.
  BOOST_CHECK_EQUAL(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}
