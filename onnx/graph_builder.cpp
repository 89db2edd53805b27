#include "graph_builder.hpp"

#include <type_traits>

namespace weft::onnx_export {

std::string GraphBuilder::unique(const std::string& base) {
  std::string name = base;
  for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
  names_.insert(name);
  return name;
}

std::string GraphBuilder::constant(const std::string& name, ConstView values) {
  auto& t = *graph_.add_initializer();
  t.set_name(unique(name));
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (std::size_t d = 0; d < values.shape().rank(); ++d) t.add_dims(values.shape()[d]);
  // Little-endian float32 bytes, as raw_data is defined.
  t.set_raw_data(values.data(), static_cast<std::size_t>(values.shape().numel()) * sizeof(float));
  return t.name();
}

std::string GraphBuilder::int_constant(const std::string& name, const std::vector<std::int64_t>& values) {
  auto& t = *graph_.add_initializer();
  t.set_name(unique(name));
  t.set_data_type(onnx::TensorProto::INT64);
  t.add_dims(static_cast<std::int64_t>(values.size()));
  for (auto v : values) t.add_int64_data(v);
  return t.name();
}

onnx::NodeProto& GraphBuilder::add_node(const std::string& op, const std::vector<std::string>& inputs,
                                        const std::vector<OnnxAttribute>& attributes) {
  auto& n = *graph_.add_node();
  n.set_op_type(op);
  n.set_name(unique(scope_ + "/" + op));
  for (const auto& in : inputs) n.add_input(in);
  for (const auto& a : attributes) {
    auto& p = *n.add_attribute();
    p.set_name(a.name);
    std::visit(
        [&p](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::int64_t>) {
            p.set_type(onnx::AttributeProto::INT);
            p.set_i(v);
          } else if constexpr (std::is_same_v<T, float>) {
            p.set_type(onnx::AttributeProto::FLOAT);
            p.set_f(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            p.set_type(onnx::AttributeProto::STRING);
            p.set_s(v);
          } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
            p.set_type(onnx::AttributeProto::INTS);
            for (auto x : v) p.add_ints(x);
          } else {
            p.set_type(onnx::AttributeProto::FLOATS);
            for (auto x : v) p.add_floats(x);
          }
        },
        a.value);
  }
  return n;
}

std::string GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                               const std::vector<OnnxAttribute>& attributes) {
  auto& n = add_node(op, inputs, attributes);
  n.add_output(unique(scope_ + "/" + op + "_out"));
  return n.output(0);
}

void GraphBuilder::named_node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
                              const std::vector<OnnxAttribute>& attributes) {
  auto& n = add_node(op, inputs, attributes);
  names_.insert(output);
  n.add_output(output);
}

}  // namespace weft::onnx_export
