// The autograd graph. Every differentiable op that sees an input requiring
// grad creates one Node and stores it in its output's grad_fn. The node keeps
// one Edge per input, saying where that input's gradient goes (the node that
// produced it, or the leaf that accumulates it), and a backward function that
// maps the output's gradient to one gradient per input. It does not keep the
// inputs themselves: the backward function captures only the tensors it reads
// (softmax its output, matmul both operands, add nothing), so an activation
// that no backward reads is freed as soon as the forward pass drops it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pf {

struct Node;

// Where one input's gradient goes. Both pointers are empty for an input that
// needs no gradient.
struct Edge {
  std::shared_ptr<Node> node;  // the input's grad_fn, when it was computed by a recorded op
  Tensor leaf;                 // else the leaf itself, whose .grad accumulates it (a parameter)
  Shape shape;                 // the input's shape and dtype, to check the gradient
  DType dtype = DType::f32;
  bool needs_grad() const { return node || leaf.defined(); }
};

struct Node {
  // Gradients for each input given the output's gradient; an undefined Tensor
  // for inputs that get none. Must return edges.size() entries.
  using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

  // For an op whose backward can add input 0's gradient onto the one
  // already accumulated for it in the pass that computes it (layer norm onto
  // its residual stream's gradient, a cast widening a half gradient as it adds
  // it): given that sum, returns input 0's new sum, then the other gradients
  // as `backward` does. Used instead of `backward` when input 0 comes from a
  // recorded op and already has a gradient; it saves a pass that writes the
  // gradient and one that adds it.
  using BackwardOntoFn = std::function<std::vector<Tensor>(const Tensor& grad_output, const Tensor& sum0)>;

  std::string op;                // for error messages: "matmul", "layer_norm", ...
  std::vector<Edge> edges;       // one per input, in the op's input order
  BackwardFn backward;           // with what it saved; empty once backward() has run and freed it
  BackwardOntoFn backward_onto;  // optional, see above; freed with backward

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
// unchanged. Use the returned tensor. `inputs` only route gradients (the node
// keeps edges, not their data); `backward` captures what it reads, as
// detach()ed handles: capturing `output` itself (or an input with a grad_fn)
// would be a reference cycle or keep the graph's history alive.
// `backward_onto`: the node's optional Node::BackwardOntoFn.
Tensor record(const char* op, const Tensor& output, std::vector<Tensor> inputs, Node::BackwardFn backward,
              Node::BackwardOntoFn backward_onto = nullptr);

// Data parallel (nn/distributed/grad_reducer.h): while set, backward() calls the hook once
// for each leaf that requires grad, as soon as the last gradient that backward
// gives it has been added to its .grad, so that its all-reduce can start while
// backward goes on. Leaves that no gradient reaches are not reported. One hook
// per thread; an empty function removes it.
using GradReadyHook = std::function<void(const Tensor& leaf)>;
void set_grad_ready_hook(GradReadyHook hook);

// What a backward function captures of a tensor it may read: a detached
// handle when `needed` (the gradient that reads it will be computed), else
// nothing, so the data can be freed.
inline Tensor save_if(bool needed, const Tensor& t) { return needed ? t.detach() : Tensor(); }

// Reverse-mode differentiation from `root` of any shape, given the gradient of
// the final loss with respect to it (same shape, dtype and device), like
// torch.autograd.backward(root, grad). Leaves accumulate into .grad.
// Tensor::backward() is backward(loss, ones) for a one-element loss.
void backward(const Tensor& root, const Tensor& grad, bool retain_graph = false);

}  // namespace pf
