#include "weft/io/normalization.hpp"

#include <charconv>
#include <cmath>

#include "weft/error.hpp"

namespace weft::io {

Normalization Normalization::parse(const std::string& text) {
  Normalization n;
  if (text == "none" || text == "standardize") {
    n.kind_ = text;
    return n;
  }
  if (text.starts_with("scale:")) {
    const char* begin = text.data() + 6;
    const char* end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(begin, end, n.factor_);
    if (ec == std::errc() && stop == end && std::isfinite(n.factor_) && n.factor_ != 0) {
      n.kind_ = "scale";
      return n;
    }
  }
  throw Error("normalisation '" + text + "': expected none, standardize or scale:FACTOR (a finite non-zero number)");
}

namespace {
// The stored name of a statistic: "mean", or "mean/<input>" for one of several inputs.
std::string statistic(const std::string& what, const std::string& input) { return input.empty() ? what : what + "/" + input; }
}  // namespace

Normalization Normalization::from_state(const DataState& state, const std::string& input) {
  Normalization n;
  const Json& s = state.settings;
  if (!s.is_object() || !s.contains("normalize")) return n;
  try {
    n.kind_ = s.at("normalize").get<std::string>();
    if (n.kind_ == "scale") n.factor_ = s.at("scale").get<double>();
  } catch (const Json::exception&) {
    throw IoError("the stored normalisation settings are malformed: " + s.dump());
  }
  if (n.kind_ == "standardize") {
    const std::string mean = statistic("mean", input), std = statistic("std", input);
    for (const auto& [name, values] : state.tensors) {
      if (name == mean) n.mean_ = values;
      if (name == std) n.std_ = values;
    }
    if (n.mean_.empty() || n.mean_.size() != n.std_.size())
      throw IoError("the stored standardisation needs /data/" + mean + " and /data/" + std + " of the same length");
  } else if (n.kind_ != "none" && n.kind_ != "scale") {
    throw IoError("unknown stored normalisation '" + n.kind_ + "'");
  }
  return n;
}

void Normalization::fit(const Tensor& x) {
  if (kind_ != "standardize") return;
  FeatureMoments moments;  // one block: exactly the two-pass mean and spread
  moments.add(x);
  fit(moments);
}

void FeatureMoments::add(const Tensor& x) {
  const std::int64_t n = x.shape().rank() ? x.shape()[0] : 0;
  if (n == 0) return;
  const auto features = static_cast<std::size_t>(x.shape().numel() / n);
  if (count_ == 0) {
    mean_.assign(features, 0);
    m2_.assign(features, 0);
  } else if (features != mean_.size()) {
    throw ShapeError("feature statistics: a block has " + std::to_string(features) + " features, earlier ones had " +
                     std::to_string(mean_.size()));
  }
  // Two passes in double over the block: its mean, then the spread around it (no cancellation).
  std::vector<double> block_mean(features, 0), block_m2(features, 0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::size_t f = 0; f < features; ++f) block_mean[f] += x[static_cast<std::size_t>(i) * features + f];
  for (auto& m : block_mean) m /= static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::size_t f = 0; f < features; ++f) {
      const double d = x[static_cast<std::size_t>(i) * features + f] - block_mean[f];
      block_m2[f] += d * d;
    }
  const auto na = static_cast<double>(count_), nb = static_cast<double>(n), total = na + nb;
  for (std::size_t f = 0; f < features; ++f) {
    const double delta = block_mean[f] - mean_[f];
    mean_[f] += delta * nb / total;
    m2_[f] += block_m2[f] + delta * delta * na * nb / total;
  }
  count_ += n;
}

void Normalization::fit(const FeatureMoments& moments) {
  if (kind_ != "standardize") return;
  if (moments.count() == 0) throw Error("cannot standardise features over an empty training set");
  mean_ = moments.mean();
  std_.resize(mean_.size());
  for (std::size_t f = 0; f < std_.size(); ++f) {
    std_[f] = std::sqrt(moments.m2()[f] / static_cast<double>(moments.count()));
    if (!(std_[f] > 1e-12)) std_[f] = 1;  // a constant feature
  }
}

void Normalization::apply(Tensor& x) const {
  // An empty part (no validation split, no test files) is a default Tensor: no samples axis.
  if (kind_ == "none" || x.shape().rank() == 0) return;
  if (kind_ == "scale") {
    for (auto& v : x.span()) v = static_cast<float>(v * factor_);
    return;
  }
  const std::int64_t n = x.shape().rank() ? x.shape()[0] : 0;
  if (n == 0) return;
  const auto features = static_cast<std::size_t>(x.shape().numel() / n);
  if (features != mean_.size())
    throw ShapeError("standardisation was fitted on " + std::to_string(mean_.size()) + " features, the data has " +
                     std::to_string(features));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t f = i % features;
    x[i] = static_cast<float>((x[i] - mean_[f]) / std_[f]);
  }
}

void Normalization::to_state(DataState& state, const std::string& input) const {
  state.settings["normalize"] = kind_;
  if (kind_ == "scale") state.settings["scale"] = factor_;
  if (kind_ == "standardize") {
    state.tensors.emplace_back(statistic("mean", input), mean_);
    state.tensors.emplace_back(statistic("std", input), std_);
  }
}

}  // namespace weft::io
