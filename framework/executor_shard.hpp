#pragma once
// An Executor's buffers for one shard (framework/executor.cpp, executor_units.cpp).
#include <vector>

#include "weft/executor.hpp"

namespace weft {

struct Executor::Shard {
  std::int64_t count = 0;  // samples in the current pass
  std::int64_t first = 0;  // index of the first of them in the mini-batch
  std::vector<Tensor> activations;  // layer outputs' buffers (Executor::plan_activation_buffers)
  std::vector<Tensor> grad_slots;  // d(loss)/d(tensor) buffers (Executor::plan_gradient_buffers)
  std::vector<Tensor> scratch;     // per input position: a later reader's share of a sum
  std::vector<ConstView> xs;       // the current layer's inputs and their gradients' views
  std::vector<View> dxs;           // (reserved once: passes allocate nothing)
  bool has_output_grad = false;    // d(loss)/d(output) is set (loss() or backward(dy))
  bool has_input_grad = false;     // d(loss)/d(inputs) of the last backward()
  std::vector<Workspace> workspaces;
  Tensor grads;  // flat, like Model::parameters()
  std::vector<std::vector<View>> grad_views;
  std::vector<double> partial;
  std::vector<double> activity_partial;
  double loss_sum = 0;
};

}  // namespace weft
