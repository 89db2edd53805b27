#pragma once
// The numeric half of the gradient checker (weft/gradient_check.hpp): central differences of an
// objective in float coordinates, the kinks among them, and their comparison with analytic
// gradients under the options' tolerance.
#include <functional>
#include <string>

#include "weft/gradient_check.hpp"
#include "weft/rng.hpp"

namespace weft::detail {

// Adds `fault` to the result (once) and, while the report is short, `line` to the report.
void record_fault(GradientCheckResult& result, GradientFault fault, const std::string& line);

// Compares analytic[i] with the central difference of `objective` in values[i] for a sample of
// the `size` coordinates drawn from `pick`; kinks are skipped and counted. `f0` is objective()
// at the unperturbed values; `what` names the tensor in the report ("dense d/dweight" gives
// "dense d/dweight[3]").
void check_tensor(GradientCheckResult& result, const GradientCheckOptions& options, float* values,
                  const float* analytic, std::size_t size, const CounterRng& pick, const std::string& what, double f0,
                  const std::function<double()>& objective);

// Records too_many_kinks when more of the points tried so far were skipped than the options allow.
void check_skipped(GradientCheckResult& result, const GradientCheckOptions& options);

}  // namespace weft::detail
