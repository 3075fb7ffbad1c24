// The autograd graph. Every differentiable op that sees an input requiring
// grad creates one Node and stores it in its output's grad_fn. The node keeps
// the inputs (to route gradients to them) and a backward function that maps
// the output's gradient to one gradient per input.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pf {

struct Node {
  // Gradients for each input given the output's gradient; an undefined Tensor
  // for inputs that get none. Must return inputs.size() entries.
  using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

  std::string op;              // for error messages: "matmul", "layer_norm", ...
  std::vector<Tensor> inputs;  // the tensors the op read (their handles)
  BackwardFn backward;         // empty once backward() has run and freed it

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees the part of the graph only this node kept alive without recursing,
  // so dropping a graph thousands of ops deep cannot overflow the stack.
  ~Node();
};

// True while gradients are being recorded (the default); see NoGradGuard.
bool grad_mode_enabled();

// Turns recording off for its lifetime (inference, optimiser updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Does an op with these inputs need to record a node?
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Makes `output` the result of a recorded op: when grad mode is on and an input
// requires grad, returns it with requires_grad and grad_fn set (as a new handle
// onto the same data if `output` is one of the inputs); otherwise returns output
// unchanged. Use the returned tensor. `backward` must not capture `output` (nor
// anything holding its handle: that would be a reference cycle); capture
// output.detach() instead.
Tensor record(const char* op, const Tensor& output, std::vector<Tensor> inputs, Node::BackwardFn backward);

// Data parallel (nn/grad_reducer.h): while set, backward() calls the hook once
// for each leaf that requires grad, as soon as the last gradient that backward
// gives it has been added to its .grad, so that its all-reduce can start while
// backward goes on. Leaves that no gradient reaches are not reported. One hook
// per thread; an empty function removes it.
using GradReadyHook = std::function<void(const Tensor& leaf)>;
void set_grad_ready_hook(GradReadyHook hook);

// Reverse-mode differentiation from `root` of any shape, given the gradient of
// the final loss with respect to it (same shape, dtype and device), like
// torch.autograd.backward(root, grad). Leaves accumulate into .grad.
// Tensor::backward() is backward(loss, ones) for a one-element loss.
void backward(const Tensor& root, const Tensor& grad, bool retain_graph = false);

}  // namespace pf
