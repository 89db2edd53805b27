#include "weft/io/model_file.hpp"

#include <set>

#include "hdf5_file.hpp"
#include "model_file_parts.hpp"
#include "weft/io/checkpoint.hpp"
#include "weft/version.hpp"

namespace weft::io {

void write_format(H5File& file, const std::string& format, int version) {
  file.set_string_attribute("/", "format", format);
  file.set_int_attribute("/", "format_version", version);
  file.set_string_attribute("/", "weft_version", WEFT_VERSION);
}

FileFormat check_format(const H5File& file, const std::vector<FileFormat>& accepted) {
  const std::string& path = file.path();
  const std::string found = file.has_attribute("/", "format") ? file.string_attribute("/", "format") : "";
  for (const auto& format : accepted) {
    if (found != format.name) continue;
    const auto version = file.int_attribute("/", "format_version");
    if (version < 1 || version > format.version)
      throw IoError("'" + path + "' has " + format.name + " file format version " + std::to_string(version) +
                    "; this build reads versions 1 to " + std::to_string(format.version));
    return format;
  }
  const FileFormat& wanted = accepted.front();
  throw IoError("'" + path + "' is an HDF5 file but not a weft " + wanted.what +
                (found.empty() ? std::string(" (no root attribute format = \"") + wanted.name + "\")"
                               : " (its root attribute format is \"" + found + "\", expected \"" + wanted.name + "\")"));
}

void write_model_parts(H5File& file, const Model& model) {
  file.set_string_attribute("/", "spec", model.spec().dump());
  file.make_groups("/weights");
  file.make_groups("/buffers");
  for (const auto& t : model.parameter_table())
    file.write_floats("/weights/" + t.name, t.shape, model.parameters().data() + t.offset);
  for (const auto& t : model.buffer_table()) file.write_floats("/buffers/" + t.name, t.shape, model.buffers().data() + t.offset);
}

void write_data(H5File& file, const DataState& data) {
  file.make_groups("/data");
  file.set_string_attribute("/data", "settings", data.settings.dump());
  for (const auto& [name, values] : data.tensors) {
    // "mean/<input>": one of several inputs' statistics, in a group per statistic.
    if (const auto slash = name.rfind('/'); slash != std::string::npos) file.make_groups("/data/" + name.substr(0, slash));
    file.write_doubles("/data/" + name, Shape{static_cast<std::int64_t>(values.size())}, values.data());
  }
}

DataState read_data(const H5File& file) {
  DataState data;
  if (!file.exists("/data")) return data;
  if (file.has_attribute("/data", "settings")) {
    try {
      data.settings = Json::parse(file.string_attribute("/data", "settings"));
    } catch (const Json::parse_error& e) {
      throw IoError("'" + file.path() + "': attribute 'settings' on '/data' is not valid JSON: " + e.what());
    }
  }
  for (const auto& name : file.datasets_under("/data")) data.tensors.emplace_back(name, file.read_doubles("/data/" + name));
  return data;
}

void read_tensors(const H5File& file, const std::string& group, const std::vector<ExpectedTensor>& expected) {
  const std::string& path = file.path();
  std::set<std::string> names;
  for (const auto& t : expected) {
    names.insert(t.name);
    const std::string full = group + "/" + t.name;
    if (!file.exists(full)) throw IoError("'" + path + "': missing tensor '" + full + "' of shape " + t.shape.str());
    file.read_floats(full, t.shape, t.out);
  }
  for (const auto& name : file.datasets_under(group))
    if (!names.contains(name))
      throw IoError("'" + path + "': unexpected tensor '" + group + "/" + name + "' that the model spec does not declare");
}

Model read_model_parts(const H5File& file) {
  const std::string& path = file.path();
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
  auto expect = [](const std::vector<NamedTensor>& table, float* flat) {
    std::vector<ExpectedTensor> out;
    for (const auto& t : table) out.push_back({t.name, t.shape, flat + t.offset});
    return out;
  };
  read_tensors(file, "/weights", expect(model.parameter_table(), model.parameters().data()));
  read_tensors(file, "/buffers", expect(model.buffer_table(), model.buffers().data()));
  return model;
}

void write_weft_file(const std::string& path, const char* format, int version, const Model& model, const DataState& data,
                     const std::function<void(H5File&)>& write_extra) {
  write_atomically(path, [&](const std::string& temp) {
    H5File file(temp, 'w');
    write_format(file, format, version);
    write_model_parts(file, model);
    if (write_extra) write_extra(file);
    write_data(file, data);
    file.flush();
  });
}

void save_model(const Model& model, const std::string& path, const DataState& data) {
  write_weft_file(path, file_format, file_format_version, model, data);
}

Model load_model(const std::string& path) {
  H5File file(path, 'r');
  // A checkpoint holds a complete model too.
  check_format(file, {{file_format, file_format_version, "model"}, {checkpoint_format, checkpoint_format_version, "model"}});
  return read_model_parts(file);
}

TransferReport load_matching_weights(Model& model, const std::string& path, bool partial) {
  H5File file(path, 'r');
  check_format(file, {{file_format, file_format_version, "model"}, {checkpoint_format, checkpoint_format_version, "model"}});
  TransferReport report;
  auto transfer = [&](const std::string& group, const std::vector<NamedTensor>& table, float* flat) {
    std::set<std::string> mine;
    for (const auto& t : table) {
      mine.insert(t.name);
      const std::string stored = group + "/" + t.name;
      std::string why;
      if (!file.exists(stored)) {
        why = "not in '" + path + "'";
      } else if (const Shape shape = file.dataset_shape(stored); !(shape == t.shape)) {
        why = "shape " + shape.str() + " in '" + path + "', " + t.shape.str() + " in this model";
      } else {
        file.read_floats(stored, t.shape, flat + t.offset);
        report.loaded.push_back(t.name);
        continue;
      }
      if (!partial) throw IoError("cannot initialise '" + t.name + "' from '" + path + "': " + why + " (--partial loads only the matching tensors)");
      report.skipped.push_back(t.name + ": " + why);
    }
    for (const auto& name : file.datasets_under(group))
      if (!mine.contains(name)) {
        if (!partial)
          throw IoError("'" + path + "' has '" + group + "/" + name + "', which this model does not (--partial ignores it)");
        report.skipped.push_back(name + ": not in this model");
      }
  };
  transfer("/weights", model.parameter_table(), model.parameters().data());
  transfer("/buffers", model.buffer_table(), model.buffers().data());
  return report;
}

DataState load_data_state(const std::string& path) {
  H5File file(path, 'r');
  check_format(file, {{file_format, file_format_version, "model"}, {checkpoint_format, checkpoint_format_version, "model"}});
  return read_data(file);
}

}  // namespace weft::io
