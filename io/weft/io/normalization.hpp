#pragma once
// Input normalisation, fitted on the training set and stored with the model (a checkpoint's or
// model file's /data group) so that evaluation and prediction prepare inputs the same way.
//
//   none:         inputs as read;
//   scale:        x · factor (e.g. 1/255 for bytes);
//   standardize:  (x − mean) / std per feature, mean and std from the training set (a feature
//                 that never varies keeps std 1, so it maps to 0 rather than to NaN); a model
//                 with several inputs has one Normalization per input, fitted on its dataset.
#include <string>
#include <vector>

#include "weft/io/checkpoint.hpp"

namespace weft::io {

// Per-feature count, mean and sum of squared deviations (M2) in double, accumulated block by
// block so that a file larger than memory is summarised in one streaming pass: each block's own
// two-pass moments are merged into the running ones with Chan, Golub and LeVeque's pairwise
// update (mean += δ·n_b/n, M2 += M2_b + δ²·n_a·n_b/n), which keeps the two-pass accuracy.
class FeatureMoments {
 public:
  // Adds the samples of x (n, features...); throws ShapeError when the feature count changes.
  void add(const Tensor& x);
  std::int64_t count() const { return count_; }  // samples added
  const std::vector<double>& mean() const { return mean_; }  // per feature
  const std::vector<double>& m2() const { return m2_; }  // per feature: the sum of squared deviations

 private:
  std::int64_t count_ = 0;
  std::vector<double> mean_, m2_;
};

// How inputs are prepared before the model sees them (see the file comment): the kind, its
// fitted statistics, and their round trip through a DataState.
class Normalization {
 public:
  // "none", "standardize", "scale:F"; throws Error naming the accepted forms otherwise.
  static Normalization parse(const std::string& text);
  // Rebuilds what to_state() stored; a state without normalisation settings means "none".
  // A model with several inputs normalises each by its own statistics: `input` names the one.
  static Normalization from_state(const DataState& state, const std::string& input = "");

  // Computes the statistics (standardize) from the training features x (n, features...).
  void fit(const Tensor& x);
  // The same from moments gathered in a streaming pass over the training set.
  void fit(const FeatureMoments& moments);
  // Normalises x (n, features...) in place; throws ShapeError when the feature count differs
  // from the one fitted.
  void apply(Tensor& x) const;
  // Adds the settings and statistics to `state`: "mean" and "std", or for one of several inputs
  // "mean/<input>" and "std/<input>" (the kind and a scale factor are common to all inputs).
  void to_state(DataState& state, const std::string& input = "") const;

  const std::string& kind() const { return kind_; }  // "none", "scale" or "standardize"

 private:
  std::string kind_ = "none";
  double factor_ = 1;
  std::vector<double> mean_, std_;
};

}  // namespace weft::io
