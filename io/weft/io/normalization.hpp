#pragma once
// Input normalisation, fitted on the training set and stored with the model (a checkpoint's or
// model file's /data group) so that evaluation and prediction prepare inputs the same way.
//   none:         inputs as read;
//   scale:        x · factor (e.g. 1/255 for bytes);
//   standardize:  (x − mean) / std per feature, mean and std from the training set (a feature
//                 that never varies keeps std 1, so it maps to 0 rather than to NaN).
#include <string>
#include <vector>

#include "weft/io/checkpoint.hpp"

namespace weft::io {

class Normalization {
 public:
  // "none", "standardize", "scale:F"; throws Error naming the accepted forms otherwise.
  static Normalization parse(const std::string& text);
  // Rebuilds what to_state() stored; a state without normalisation settings means "none".
  static Normalization from_state(const DataState& state);

  // Computes the statistics (standardize) from the training features x (n, features...).
  void fit(const Tensor& x);
  // Normalises x (n, features...) in place; throws ShapeError when the feature count differs
  // from the one fitted.
  void apply(Tensor& x) const;
  // Adds the settings and statistics to `state`.
  void to_state(DataState& state) const;

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_ = "none";
  double factor_ = 1;
  std::vector<double> mean_, std_;
};

}  // namespace weft::io
