// backward(): a depth-first search gives a topological order of the graph,
// then the chain rule runs over it in reverse. That is the whole engine.
#include <unordered_map>
#include <unordered_set>

#include "autograd/node.h"
#include "core/ops.h"

namespace pf {

namespace {
thread_local bool g_grad_enabled = true;
thread_local GradReadyHook g_grad_ready_hook;
}

void set_grad_ready_hook(GradReadyHook hook) { g_grad_ready_hook = std::move(hook); }

bool grad_mode_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(const char* op, const Tensor& output, std::vector<Tensor> inputs, Node::BackwardFn backward) {
  if (!grad_mode_enabled() || !any_requires_grad(inputs)) return output;
  // A raw op may return an input's own handle (ops::to to the same dtype, a sum
  // of a 0-d tensor). Recording on it would make that input its own grad_fn's
  // input, so the result gets a handle of its own onto the same data.
  Tensor result = output;
  for (const Tensor& input : inputs)
    if (input.is_same(output)) result = output.detach();
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  result.impl().requires_grad = true;
  result.impl().grad_fn = std::move(node);
  return result;
}

Node::~Node() {
  // Default destruction recurses Tensor -> Node -> inputs -> Tensor -> ... once
  // per op. Instead, inputs that would die with this node hand their own
  // node's inputs to an explicit stack first, so each one dies childless.
  std::vector<Tensor> pending = std::move(inputs);
  while (!pending.empty()) {
    Tensor t = std::move(pending.back());
    pending.pop_back();
    if (!t.defined() || t.impl_ptr().use_count() > 1) continue;  // still referenced elsewhere
    const std::shared_ptr<Node>& node = t.grad_fn();
    if (node && node.use_count() == 1) {
      for (Tensor& input : node->inputs) pending.push_back(std::move(input));
      node->inputs.clear();
    }
  }
}

namespace {

// Adds g to an accumulated gradient, checking that it fits the tensor.
void accumulate(Tensor& into, const Tensor& g, const Tensor& owner, const std::string& op) {
  PF_CHECK(g.shape() == owner.shape() && g.dtype() == owner.dtype(), "backward",
           "op '", op, "' produced a gradient ", describe(g), " for an input ", describe(owner));
  into = into.defined() ? ops::add(into, g) : g;
}

void accumulate_into_leaf(const Tensor& leaf, const Tensor& g, const std::string& op) {
  Tensor sum = leaf.grad();
  accumulate(sum, g, leaf, op);
  leaf.set_grad(sum);
}

void check_requires_grad(const Tensor& root) {
  PF_CHECK(root.defined() && root.requires_grad(), "backward", "called on a tensor that does not require grad ",
           "(HINT: did a parameter miss set_requires_grad(true), or was it computed under NoGradGuard?)");
}

// Post-order DFS from root over tensors that have a grad_fn.
void topological_order(const Tensor& root, std::vector<Tensor>& order) {
  std::unordered_set<const TensorImpl*> visited;
  // An explicit stack (not recursion): a deep graph must not overflow the call stack.
  std::vector<std::pair<Tensor, size_t>> stack{{root, 0}};
  visited.insert(root.impl_ptr().get());
  while (!stack.empty()) {
    auto& [t, next_input] = stack.back();
    const auto& node = t.grad_fn();
    if (node && next_input < node->inputs.size()) {
      const Tensor& input = node->inputs[next_input++];
      if (input.defined() && input.grad_fn() && visited.insert(input.impl_ptr().get()).second)
        stack.push_back({input, 0});
    } else {
      order.push_back(t);
      stack.pop_back();
    }
  }
}

bool is_leaf_needing_grad(const Tensor& t) { return t.defined() && t.requires_grad() && !t.grad_fn(); }

// The number of graph edges into each leaf that requires grad: its gradient
// is final once the walk has passed that many of them (the grad-ready hook).
std::unordered_map<const TensorImpl*, int> edges_into_leaves(const std::vector<Tensor>& order) {
  std::unordered_map<const TensorImpl*, int> edges;
  for (const Tensor& t : order)
    for (const Tensor& input : t.grad_fn()->inputs)
      if (is_leaf_needing_grad(input)) ++edges[input.impl_ptr().get()];
  return edges;
}

// Counts off the node's edges into leaves; calls the hook for each leaf whose last edge this was.
void report_final_leaves(const Node& node, std::unordered_map<const TensorImpl*, int>& edges_left) {
  for (const Tensor& input : node.inputs)
    if (is_leaf_needing_grad(input) && --edges_left[input.impl_ptr().get()] == 0) g_grad_ready_hook(input);
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  check_requires_grad(root);
  PF_CHECK(grad.defined() && grad.shape() == root.shape() && grad.dtype() == root.dtype() &&
               grad.device() == root.device(),
           "backward", "the gradient ", describe(grad), " does not match the tensor ", describe(root));
  NoGradGuard no_grad;  // the backward computations themselves are not recorded
  if (root.is_leaf()) {  // nothing to walk: the gradient is the given one
    accumulate_into_leaf(root, grad, "backward");
    return;
  }

  std::vector<Tensor> order;
  topological_order(root, order);

  std::unordered_map<const TensorImpl*, Tensor> grads;  // gradient w.r.t. each non-leaf
  grads[root.impl_ptr().get()] = grad;
  std::unordered_map<const TensorImpl*, int> leaf_edges_left;
  if (g_grad_ready_hook) leaf_edges_left = edges_into_leaves(order);

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Tensor& t = *it;
    Node& node = *t.grad_fn();
    PF_CHECK(node.backward != nullptr, "backward", "the graph through '", node.op,
             "' was already freed by an earlier backward() (HINT: pass retain_graph = true to the first call)");
    auto found = grads.find(t.impl_ptr().get());
    if (found == grads.end()) continue;  // no gradient reached this tensor
    Tensor grad_output = found->second;
    grads.erase(found);

    std::vector<Tensor> input_grads = node.backward(grad_output);
    PF_CHECK(input_grads.size() == node.inputs.size(), "backward", "op '", node.op, "' returned ",
             input_grads.size(), " gradients for ", node.inputs.size(), " inputs");
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const Tensor& input = node.inputs[i];
      if (!input.defined() || !input.requires_grad() || !input_grads[i].defined()) continue;
      if (input.grad_fn()) {
        accumulate(grads[input.impl_ptr().get()], input_grads[i], input, node.op);
      } else {
        accumulate_into_leaf(input, input_grads[i], node.op);
      }
    }
    if (g_grad_ready_hook) report_final_leaves(node, leaf_edges_left);
    if (!retain_graph) {  // free what the node saved; the graph cannot be walked again
      node.backward = nullptr;
      node.inputs.clear();
    }
  }
}

void Tensor::backward(bool retain_graph) const {
  check_requires_grad(*this);
  PF_CHECK(numel() == 1, "backward", "needs a scalar (one-element) loss, got ", describe(*this));
  pf::backward(*this, Tensor::ones(shape(), dtype(), device()), retain_graph);
}

}  // namespace pf
