// Training checkpoints: exact round trip of the whole state, the documented layout, and a
// one-line error naming the problem for every kind of bad file.
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "hdf5_file.hpp"
#include "model_helpers.hpp"
#include "weft/io/checkpoint.hpp"
#include "weft/io/model_file.hpp"

using weft::Json;
using weft::testing::error_of;

namespace {

const Json adam_classifier_spec = weft::testing::small_classifier_spec({{"type", "adam"}, {"lr", 0.002}});

// A state as a trainer would report it: Adam's two slots per parameter, filled with values that
// differ everywhere, and a history with a NaN (an undefined metric).
weft::io::TrainingState example_state(const weft::Model& model) {
  weft::io::TrainingState s;
  float value = 0.25f;
  for (const auto& t : model.parameter_table())
    for (const char* slot : {"exp_avg", "exp_avg_sq"}) {
      weft::Tensor tensor(t.shape);
      for (std::size_t i = 0; i < tensor.size(); ++i) tensor[i] = std::sin(value += 1.0f);
      s.tensors.emplace_back(t.name + "/" + slot, std::move(tensor));
    }
  s.json = {{"step", 7},
            {"epoch", 1},
            {"position", 3},
            {"lr", 0.0015},
            {"rng", {{"seed", 42}, {"shuffle", true}}},
            {"schedule", {{"spec", {{"type", "step"}}}, {"state", Json::object()}}},
            {"history", Json::array({Json::array({Json::array({"loss", 0.6931471805599453}),
                                                  Json::array({"accuracy", std::nan("")})})})}};
  return s;
}

std::string saved_checkpoint(const weft::testing::TempDir& dir, const std::string& name = "c.h5") {
  weft::Model model(adam_classifier_spec);
  model.initialize(3);
  weft::io::save_checkpoint(dir.file(name), model, example_state(model));
  return dir.file(name);
}

bool same_bits(const float* a, const float* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// Creates a fresh HDF5 file at `path` holding only what `tweak` writes.
void rewrite(const std::string& path, const std::function<void(weft::io::H5File&)>& tweak) {
  weft::io::H5File f(path, 'w');
  tweak(f);
}

}  // namespace

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_is_bit_exact) {
  weft::testing::TempDir dir;
  weft::Model model(adam_classifier_spec);
  model.initialize(3);
  const auto state = example_state(model);
  weft::io::save_checkpoint(dir.file("c.h5"), model, state, {{{"normalize", "standardize"}}, {{"mean", {1.5, -2.0}}}});

  const auto c = weft::io::load_checkpoint(dir.file("c.h5"));
  BOOST_CHECK(c.model.spec() == model.spec());
  BOOST_CHECK(same_bits(c.model.parameters().data(), model.parameters().data(), model.parameter_count()));
  BOOST_REQUIRE_EQUAL(c.training.tensors.size(), state.tensors.size());
  for (std::size_t i = 0; i < state.tensors.size(); ++i) {
    BOOST_CHECK_EQUAL(c.training.tensors[i].first, state.tensors[i].first);
    BOOST_CHECK(c.training.tensors[i].second.shape() == state.tensors[i].second.shape());
    BOOST_CHECK(same_bits(c.training.tensors[i].second.data(), state.tensors[i].second.data(), state.tensors[i].second.size()));
  }
  // The NaN survives (JSON alone would turn it into null); everything else compares equal.
  const Json& history = c.training.json["history"];
  BOOST_CHECK(std::isnan(history[0][1][1].get<double>()));
  BOOST_CHECK_EQUAL(history[0][0][1].get<double>(), 0.6931471805599453);
  Json without_history = c.training.json, expected = state.json;
  without_history.erase("history");
  expected.erase("history");
  BOOST_CHECK(without_history == expected);
  BOOST_CHECK_EQUAL(c.data.settings["normalize"], "standardize");
  BOOST_REQUIRE_EQUAL(c.data.tensors.size(), 1u);
  BOOST_CHECK(c.data.tensors[0].second == (std::vector<double>{1.5, -2.0}));
}

BOOST_AUTO_TEST_CASE(checkpoint_layout_is_the_documented_one) {
  weft::testing::TempDir dir;
  weft::io::H5File f(saved_checkpoint(dir), 'r');
  BOOST_CHECK_EQUAL(f.string_attribute("/", "format"), "weft-checkpoint");
  BOOST_CHECK_EQUAL(f.int_attribute("/", "format_version"), 1);
  BOOST_CHECK(!f.string_attribute("/", "weft_version").empty());
  BOOST_CHECK(Json::parse(f.string_attribute("/", "spec"))["layers"][2]["name"] == "head");
  BOOST_CHECK(f.dataset_shape("/weights/dense_0/weight") == (weft::Shape{5, 6}));
  BOOST_CHECK(f.dataset_shape("/optimizer/dense_0/weight/exp_avg") == (weft::Shape{5, 6}));
  BOOST_CHECK(f.dataset_shape("/optimizer/head/bias/exp_avg_sq") == (weft::Shape{3}));
  BOOST_CHECK_EQUAL(f.string_attribute("/optimizer", "type"), "adam");
  BOOST_CHECK_EQUAL(f.double_attribute("/optimizer", "lr"), 0.002);
  BOOST_CHECK_EQUAL(f.string_attribute("/optimizer", "slots"), R"(["exp_avg","exp_avg_sq"])");
  BOOST_CHECK_EQUAL(f.int_attribute("/training", "step"), 7);
  BOOST_CHECK_EQUAL(f.int_attribute("/training", "epoch"), 1);
  BOOST_CHECK_EQUAL(f.int_attribute("/training", "position"), 3);
  BOOST_CHECK_EQUAL(f.string_attribute("/training", "seed"), "42");
  const auto loss = f.read_doubles("/training/history/loss");
  BOOST_REQUIRE_EQUAL(loss.size(), 1u);
  BOOST_CHECK_EQUAL(loss[0], 0.6931471805599453);
  BOOST_CHECK(f.has_attribute("/weights/dense_0/weight", "crc32"));
}

BOOST_AUTO_TEST_CASE(a_checkpoint_also_loads_as_a_model) {
  weft::testing::TempDir dir;
  const auto path = saved_checkpoint(dir);
  const auto model = weft::io::load_model(path);
  BOOST_CHECK(model.spec() == weft::io::load_checkpoint(path).model.spec());
}

BOOST_AUTO_TEST_CASE(files_that_are_not_checkpoints_are_refused_with_one_line) {
  weft::testing::TempDir dir;
  auto one_line_with = [](const std::string& msg, const std::string& text) {
    BOOST_CHECK_MESSAGE(msg.find(text) != std::string::npos && msg.find('\n') == std::string::npos,
                        "expected '" << text << "' in: " << msg);
  };
  std::ofstream(dir.file("text.h5")) << "step,loss\n1,0.5\n";
  one_line_with(error_of([&] { weft::io::load_checkpoint(dir.file("text.h5")); }), "is not an HDF5 file");
  one_line_with(error_of([&] { weft::io::load_checkpoint(dir.file("absent.h5")); }), "no such file");

  rewrite(dir.file("foreign.h5"), [](weft::io::H5File& f) {
    const double x[2] = {1, 2};
    f.write_doubles("/data/x", weft::Shape{2}, x);
  });
  one_line_with(error_of([&] { weft::io::load_checkpoint(dir.file("foreign.h5")); }),
                "is an HDF5 file but not a weft checkpoint (no root attribute format = \"weft-checkpoint\")");

  weft::io::save_model(weft::Model(adam_classifier_spec), dir.file("model.h5"));
  one_line_with(error_of([&] { weft::io::load_checkpoint(dir.file("model.h5")); }),
                "not a weft checkpoint (its root attribute format is \"weft\", expected \"weft-checkpoint\")");

  rewrite(dir.file("future.h5"), [](weft::io::H5File& f) {
    f.set_string_attribute("/", "format", "weft-checkpoint");
    f.set_int_attribute("/", "format_version", 2);
  });
  one_line_with(error_of([&] { weft::io::load_checkpoint(dir.file("future.h5")); }),
                "has weft-checkpoint file format version 2; this build reads versions 1 to 1");

  const auto truncated = saved_checkpoint(dir, "truncated.h5");
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) * 2 / 3);
  one_line_with(error_of([&] { weft::io::load_checkpoint(truncated); }), "truncated or corrupt");
}

BOOST_AUTO_TEST_CASE(damaged_tensor_data_is_caught_by_its_checksum) {
  weft::testing::TempDir dir;
  const auto path = saved_checkpoint(dir);
  haddr_t offset = HADDR_UNDEF;
  {
    weft::io::H5File f(path, 'r');
    weft::io::Hid ds(H5Dopen2(f.id(), "/optimizer/head/weight/exp_avg_sq", H5P_DEFAULT), H5Dclose);
    offset = H5Dget_offset(ds.get());
  }
  BOOST_REQUIRE(offset != HADDR_UNDEF);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(offset) + 5);
    file.put('\x7f');
  }
  const auto msg = error_of([&] { weft::io::load_checkpoint(path); });
  BOOST_CHECK_MESSAGE(msg.find("dataset '/optimizer/head/weight/exp_avg_sq' is corrupt: its data does not match its stored CRC-32") !=
                          std::string::npos,
                      msg);
}

BOOST_AUTO_TEST_CASE(missing_extra_and_misshapen_optimizer_tensors_are_named) {
  weft::testing::TempDir dir;
  weft::Model model(adam_classifier_spec);
  auto save_with = [&](const std::string& name, const std::function<void(weft::io::TrainingState&)>& tweak) {
    auto state = example_state(model);
    tweak(state);
    weft::io::save_checkpoint(dir.file(name), model, state);
    return error_of([&] { weft::io::load_checkpoint(dir.file(name)); });
  };
  auto msg = save_with("missing.h5", [](auto& s) { s.tensors.pop_back(); });
  BOOST_CHECK_MESSAGE(msg.find("missing tensor '/optimizer/head/bias/exp_avg_sq' of shape (3)") != std::string::npos, msg);

  msg = save_with("extra.h5", [](auto& s) { s.tensors.emplace_back("head/bias/momentum", weft::Tensor(weft::Shape{3})); });
  BOOST_CHECK_MESSAGE(msg.find("unexpected tensor '/optimizer/head/bias/momentum'") != std::string::npos, msg);

  msg = save_with("shape.h5", [](auto& s) { s.tensors.back().second = weft::Tensor(weft::Shape{4}); });
  BOOST_CHECK_MESSAGE(msg.find("'/optimizer/head/bias/exp_avg_sq' has shape (4), expected (3)") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(temporaries_of_killed_writers_are_removed_by_the_next_save) {
  weft::testing::TempDir dir;
  // A pid that cannot be running (above the kernel's limit) and one that is (this process).
  const std::string stale = dir.file(".c.h5.weft-tmp.999999999.abcdef");
  const std::string live = dir.file(".c.h5.weft-tmp." + std::to_string(::getpid()) + ".abcdef");
  const std::string unrelated = dir.file(".other.h5.weft-tmp.999999999.abcdef");
  for (const auto& p : {stale, live, unrelated}) std::ofstream(p) << "partial";
  saved_checkpoint(dir);
  BOOST_CHECK(!std::filesystem::exists(stale));
  BOOST_CHECK(std::filesystem::exists(live));
  BOOST_CHECK(std::filesystem::exists(unrelated));
}

BOOST_AUTO_TEST_CASE(init_from_loads_matching_layers_strictly_unless_partial) {
  weft::testing::TempDir dir;
  auto with_head = [](int classes) {
    return Json{{"input", {6}},
                {"layers", {{{"type", "dense"}, {"units", 5}, {"name", "body"}}, {{"type", "dense"}, {"units", classes}, {"name", "head"}}}},
                {"loss", "cross_entropy"}};
  };
  weft::Model source(with_head(3));
  source.initialize(1);
  weft::io::save_model(source, dir.file("source.h5"));

  weft::Model same(with_head(3));
  const auto all = weft::io::load_matching_weights(same, dir.file("source.h5"), false);
  BOOST_CHECK_EQUAL(all.loaded.size(), 4u);
  BOOST_CHECK(same_bits(same.parameters().data(), source.parameters().data(), source.parameter_count()));

  weft::Model other(with_head(4));
  const auto msg = error_of([&] { weft::io::load_matching_weights(other, dir.file("source.h5"), false); });
  BOOST_CHECK_MESSAGE(msg.find("cannot initialise 'head/weight'") != std::string::npos &&
                          msg.find("shape (3, 5) in '" + dir.file("source.h5") + "', (4, 5) in this model") != std::string::npos,
                      msg);

  weft::Model fresh(with_head(4));
  fresh.initialize(2);
  const auto report = weft::io::load_matching_weights(fresh, dir.file("source.h5"), true);
  BOOST_CHECK(report.loaded == (std::vector<std::string>{"body/weight", "body/bias"}));
  BOOST_CHECK_EQUAL(report.skipped.size(), 2u);
  // The body now equals the source's.
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& t = fresh.parameter_table()[i];
    BOOST_CHECK(same_bits(fresh.parameters().data() + t.offset, source.parameters().data() + t.offset, t.size()));
  }
}
