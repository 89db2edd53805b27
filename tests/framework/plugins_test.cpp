// Run-time plugins: a good one registers through the same registry as the built-ins; broken ones
// (another ABI version, not a shared object, no entry point, a taken name, a throwing or empty
// registration) give one line naming the file and the reason, and leave the registry unchanged.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <set>

#include "model_helpers.hpp"
#include "weft/model.hpp"
#include "weft/plugins.hpp"
#include "weft/version.hpp"

using weft::Json;
using weft::testing::error_of;

namespace {

std::string plugin(const std::string& name) { return std::string(WEFT_TEST_PLUGIN_DIR) + "/libtest_plugin_" + name + ".so"; }

// Loading `file` fails with one line containing every part of `expected`, and changes nothing.
void check_refused(const std::string& file, std::initializer_list<std::string> expected) {
  const Json before = weft::module_catalogue(weft::registry());
  const std::string msg = error_of([&] { weft::load_plugin(file); });
  BOOST_TEST_INFO(msg);
  BOOST_CHECK(msg.find('\n') == std::string::npos);
  for (const auto& part : expected) BOOST_CHECK_MESSAGE(msg.find(part) != std::string::npos, "missing: " + part);
  BOOST_CHECK(weft::module_catalogue(weft::registry()) == before);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_plugin_registers_modules_with_its_path_as_provider) {
  weft::Registries target;
  weft::register_builtins(target);
  weft::load_plugin(plugin("good"), target);
  BOOST_REQUIRE(target.layers.contains("test_doubling"));
  BOOST_CHECK_EQUAL(target.layers.provider("test_doubling"), plugin("good"));
  BOOST_CHECK_EQUAL(target.optimizers.provider("test_still"), plugin("good"));
  BOOST_CHECK_EQUAL(target.layers.provider("dense"), "built-in");
  // It reached every kind, the ones added after plugins were written included.
  target.for_each_kind([&](const auto& r) {
    BOOST_CHECK_MESSAGE(r.provided_by(plugin("good")), "the plugin registered no " + r.kind());
  });
  BOOST_CHECK_EQUAL(target.schedules.provider("test_halving"), plugin("good"));
  BOOST_CHECK_EQUAL(target.regularizers.provider("test_no_penalty"), plugin("good"));
  // Loading it again (WEFT_PLUGIN_PATH and --plugin naming the same file) is not a conflict.
  weft::load_plugin(plugin("good"), target);
  // Its modules build like built-ins.
  auto built = target.layers.create(Json{{"type", "test_doubling"}}, "layer 0");
  BOOST_CHECK(built.module != nullptr);
  BOOST_CHECK_EQUAL(built.config["type"], "test_doubling");
}

BOOST_AUTO_TEST_CASE(a_model_uses_a_plugin_layer_through_the_global_registry) {
  const Json spec = {{"input", {3}}, {"layers", {{{"type", "test_doubling"}}}}, {"loss", "mse"}};
  const std::string before = error_of([&] { weft::Model m(spec); });
  BOOST_CHECK_MESSAGE(before.find("unknown layer type 'test_doubling'") != std::string::npos, before);
  BOOST_CHECK_MESSAGE(before.find("--plugin or WEFT_PLUGIN_PATH") != std::string::npos, before);
  weft::load_plugin(plugin("good"));
  weft::Model m(spec);
  BOOST_CHECK_EQUAL(m.layer(0).type, "test_doubling");
}

BOOST_AUTO_TEST_CASE(another_abi_version_is_refused_naming_both) {
  const std::string theirs = std::to_string(weft::abi_version + 41), ours = std::to_string(weft::abi_version);
  check_refused(plugin("wrong_abi"), {plugin("wrong_abi"), "built for weft ABI version " + theirs, "(weft 99.1.0)",
                                      "this is weft " + std::string(weft::version) + " with ABI version " + ours});
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_shared_object_is_refused) {
  weft::testing::TempDir dir;
  std::ofstream(dir.file("libtext.so")) << "not an ELF file\n";
  check_refused(dir.file("libtext.so"), {dir.file("libtext.so"), "cannot be loaded as a shared object"});
  check_refused(dir.file("libnone.so"), {"plugin '" + dir.file("libnone.so") + "': no such file"});
}

BOOST_AUTO_TEST_CASE(a_shared_object_without_the_entry_point_is_refused) {
  check_refused(plugin("no_entry"), {plugin("no_entry"), "is not a weft plugin", "WEFT_PLUGIN"});
}

BOOST_AUTO_TEST_CASE(a_taken_name_names_both_providers_and_lands_nothing) {
  check_refused(plugin("duplicate"),
                {"optimizer 'sgd' is registered twice: by built-in and by " + plugin("duplicate")});
  BOOST_CHECK(!weft::registry().layers.contains("test_duplicate_fresh"));
}

BOOST_AUTO_TEST_CASE(a_throwing_or_empty_registration_lands_nothing) {
  check_refused(plugin("throwing"), {plugin("throwing"), "failed while registering", "failed on purpose"});
  BOOST_CHECK(!weft::registry().layers.contains("test_throwing_fresh"));
  check_refused(plugin("empty"), {plugin("empty"), "registers no module"});
}

BOOST_AUTO_TEST_CASE(plugin_path_lists_files_and_folders) {
  weft::testing::TempDir dir;
  for (const char* name : {"libb.so", "liba.so", "notes.txt"}) std::ofstream(dir.file(name)) << "x";
  const auto files = weft::plugin_files("::" + dir.path() + ":" + plugin("good") + ":");
  const std::vector<std::string> expected{dir.file("liba.so"), dir.file("libb.so"), plugin("good")};
  BOOST_CHECK_EQUAL_COLLECTIONS(files.begin(), files.end(), expected.begin(), expected.end());
  const auto msg = error_of([&] { weft::plugin_files(dir.file("missing")); });
  BOOST_CHECK_MESSAGE(msg.find("WEFT_PLUGIN_PATH names '" + dir.file("missing") + "', which does not exist") !=
                          std::string::npos,
                      msg);
}

BOOST_AUTO_TEST_CASE(every_registry_kind_is_enumerated) {
  // kind_count is checked against the members' size at compile time; here, that for_each_kind
  // visits that many distinct kinds, and that the catalogue lists each with every module.
  const weft::Registries& r = weft::registry();
  std::vector<std::string> kinds;
  std::size_t modules = 0;
  r.for_each_kind([&](const auto& reg) {
    kinds.push_back(reg.kind());
    modules += reg.size();
  });
  BOOST_CHECK_EQUAL(kinds.size(), weft::Registries::kind_count);
  const std::set<std::string> distinct(kinds.begin(), kinds.end());
  BOOST_CHECK_EQUAL(distinct.size(), kinds.size());
  const Json catalogue = weft::module_catalogue(r);
  std::size_t listed = 0;
  for (const auto& [kind, list] : catalogue.items()) listed += list.size();
  BOOST_CHECK_EQUAL(catalogue.size(), kinds.size());
  BOOST_CHECK_EQUAL(listed, modules);
  // A module's entry carries its declared defaults (dense: units required, bias true).
  for (const auto& m : catalogue["layer"])
    if (m["name"] == "dense") {
      BOOST_CHECK(m["settings"]["units"].is_null());
      BOOST_CHECK_EQUAL(m["settings"]["bias"], true);
      BOOST_CHECK_EQUAL(m["provider"], "built-in");
    }
}
