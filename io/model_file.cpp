#include "weft/io/model_file.hpp"

#include <set>

#include "hdf5_file.hpp"
#include "model_file_parts.hpp"
#include "weft/version.hpp"

namespace weft::io {

void write_model_parts(H5File& file, const Model& model) {
  file.set_string_attribute("/", "format", file_format);
  file.set_int_attribute("/", "format_version", file_format_version);
  file.set_string_attribute("/", "weft_version", WEFT_VERSION);
  file.set_string_attribute("/", "spec", model.spec().dump());
  file.make_groups("/weights");
  file.make_groups("/buffers");
  for (const auto& t : model.parameter_table())
    file.write_floats("/weights/" + t.name, t.shape, model.parameters().data() + t.offset);
  for (const auto& t : model.buffer_table()) file.write_floats("/buffers/" + t.name, t.shape, model.buffers().data() + t.offset);
}

Model read_model_parts(const H5File& file) {
  const std::string& path = file.path();
  if (!file.has_attribute("/", "format") || file.string_attribute("/", "format") != file_format)
    throw IoError("'" + path + "' is an HDF5 file but not a weft model (no root attribute format = \"weft\")");
  const auto version = file.int_attribute("/", "format_version");
  if (version < 1 || version > file_format_version)
    throw IoError("'" + path + "' has weft file format version " + std::to_string(version) +
                  "; this build reads versions 1 to " + std::to_string(file_format_version));
  Json spec;
  try {
    spec = Json::parse(file.string_attribute("/", "spec"));
  } catch (const Json::parse_error& e) {
    throw IoError("'" + path + "': the stored model spec is not valid JSON: " + e.what());
  }
  Model model = [&] {
    try {
      return Model(spec);
    } catch (const Error& e) {
      throw IoError("'" + path + "': the stored model spec cannot be built: " + e.what());
    }
  }();
  auto read_table = [&](const std::string& group, const std::vector<NamedTensor>& table, float* flat) {
    std::set<std::string> expected;
    for (const auto& t : table) {
      expected.insert(t.name);
      if (!file.exists(group + "/" + t.name))
        throw IoError("'" + path + "': missing tensor '" + group + "/" + t.name + "' of shape " + t.shape.str());
      file.read_floats(group + "/" + t.name, t.shape, flat + t.offset);
    }
    for (const auto& layer : file.members(group))
      for (const auto& name : file.members(group + "/" + layer))
        if (!expected.contains(layer + "/" + name))
          throw IoError("'" + path + "': unexpected tensor '" + group + "/" + layer + "/" + name +
                        "' that the model spec does not declare");
  };
  read_table("/weights", model.parameter_table(), model.parameters().data());
  read_table("/buffers", model.buffer_table(), model.buffers().data());
  return model;
}

void save_model(const Model& model, const std::string& path) {
  write_atomically(path, [&](const std::string& temp) {
    H5File file(temp, 'w');
    write_model_parts(file, model);
    file.flush();
  });
}

Model load_model(const std::string& path) {
  H5File file(path, 'r');
  return read_model_parts(file);
}

}  // namespace weft::io
