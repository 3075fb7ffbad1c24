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

namespace {
Edge edge_to(const Tensor& input) {
  if (!input.defined() || !input.requires_grad()) return {};
  return {input.grad_fn(), input.is_leaf() ? input : Tensor(), input.shape(), input.dtype()};
}
}  // namespace

Tensor record(const char* op, const Tensor& output, std::vector<Tensor> inputs, Node::BackwardFn backward,
              Node::BackwardOntoFn backward_onto) {
  if (!grad_mode_enabled() || !any_requires_grad(inputs)) return output;
  // A raw op may return an input's own handle (ops::to to the same dtype, a sum
  // of a 0-d tensor). Recording on it would make that input its own grad_fn's
  // input, so the result gets a handle of its own onto the same data.
  Tensor result = output;
  for (const Tensor& input : inputs)
    if (input.is_same(output)) result = output.detach();
  auto node = std::make_shared<Node>();
  node->op = op;
  for (const Tensor& input : inputs) node->edges.push_back(edge_to(input));
  node->backward = std::move(backward);
  node->backward_onto = std::move(backward_onto);
  result.impl().requires_grad = true;
  result.impl().grad_fn = std::move(node);
  return result;
}

Node::~Node() {
  // Default destruction recurses Node -> edge -> Node -> ... once per op.
  // Instead, nodes that would die with this one hand their own edges to an
  // explicit stack first, so each one dies childless.
  std::vector<std::shared_ptr<Node>> pending;
  for (Edge& edge : edges) pending.push_back(std::move(edge.node));
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (!node || node.use_count() > 1) continue;  // still referenced elsewhere
    for (Edge& edge : node->edges) pending.push_back(std::move(edge.node));
  }
}

namespace {

// Adds g to an accumulated gradient, checking that it fits the input.
void accumulate(Tensor& into, const Tensor& g, const Edge& to, const std::string& op) {
  PF_CHECK(g.shape() == to.shape && g.dtype() == to.dtype, "backward", "op '", op, "' produced a gradient ",
           describe(g), " for an input ", to.dtype, shape_str(to.shape));
  into = into.defined() ? ops::add(into, g) : g;
}

void accumulate_into_leaf(const Edge& to, const Tensor& g, const std::string& op) {
  Tensor sum = to.leaf.grad();
  accumulate(sum, g, to, op);
  to.leaf.set_grad(sum);
}

void check_requires_grad(const Tensor& root) {
  PF_CHECK(root.defined() && root.requires_grad(), "backward", "called on a tensor that does not require grad ",
           "(HINT: did a parameter miss set_requires_grad(true), or was it computed under NoGradGuard?)");
}

// Post-order DFS over the nodes reachable from root.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<const Node*> visited{root.get()};
  // An explicit stack (not recursion): a deep graph must not overflow the call stack.
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next_edge] = stack.back();
    if (next_edge < node->edges.size()) {
      const std::shared_ptr<Node>& input = node->edges[next_edge++].node;
      if (input && visited.insert(input.get()).second) stack.push_back({input, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

// The number of graph edges into each leaf: its gradient is final once the
// walk has passed that many of them (the grad-ready hook).
std::unordered_map<const TensorImpl*, int> edges_into_leaves(const std::vector<std::shared_ptr<Node>>& order) {
  std::unordered_map<const TensorImpl*, int> edges;
  for (const auto& node : order)
    for (const Edge& edge : node->edges)
      if (edge.leaf.defined()) ++edges[edge.leaf.impl_ptr().get()];
  return edges;
}

// Counts off the node's edges into leaves; calls the hook for each leaf whose last edge this was.
void report_final_leaves(const Node& node, std::unordered_map<const TensorImpl*, int>& edges_left) {
  for (const Edge& edge : node.edges)
    if (edge.leaf.defined() && --edges_left[edge.leaf.impl_ptr().get()] == 0) g_grad_ready_hook(edge.leaf);
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  check_requires_grad(root);
  PF_CHECK(grad.defined() && grad.shape() == root.shape() && grad.dtype() == root.dtype() &&
               grad.device() == root.device(),
           "backward", "the gradient ", describe(grad), " does not match the tensor ", describe(root));
  NoGradGuard no_grad;  // the backward computations themselves are not recorded
  if (root.is_leaf()) {  // nothing to walk: the gradient is the given one
    accumulate_into_leaf(edge_to(root), grad, "backward");
    return;
  }

  const std::vector<std::shared_ptr<Node>> order = topological_order(root.grad_fn());
  std::unordered_map<const Node*, Tensor> grads;  // gradient w.r.t. each node's output
  grads[root.grad_fn().get()] = grad;
  std::unordered_map<const TensorImpl*, int> leaf_edges_left;
  if (g_grad_ready_hook) leaf_edges_left = edges_into_leaves(order);

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node& node = **it;
    PF_CHECK(node.backward != nullptr, "backward", "the graph through '", node.op,
             "' was already freed by an earlier backward() (HINT: pass retain_graph = true to the first call)");
    auto found = grads.find(&node);
    if (found == grads.end()) continue;  // no gradient reached this node
    Tensor grad_output = std::move(found->second);
    grads.erase(found);

    // Input 0's gradient so far, when the node can add onto it (backward_onto).
    const Tensor* sum0 = nullptr;
    if (node.backward_onto && node.edges[0].node) {
      const auto sum = grads.find(node.edges[0].node.get());
      if (sum != grads.end() && sum->second.defined()) sum0 = &sum->second;
    }
    std::vector<Tensor> input_grads = sum0 ? node.backward_onto(grad_output, *sum0) : node.backward(grad_output);
    PF_CHECK(input_grads.size() == node.edges.size(), "backward", "op '", node.op, "' returned ",
             input_grads.size(), " gradients for ", node.edges.size(), " inputs");
    for (size_t i = 0; i < node.edges.size(); ++i) {
      const Edge& edge = node.edges[i];
      if (!edge.needs_grad() || !input_grads[i].defined()) continue;
      if (i == 0 && sum0) {  // the new sum, which the node has added up itself
        Tensor replaced;
        accumulate(replaced, input_grads[0], edge, node.op);
        grads[edge.node.get()] = replaced;
      } else if (edge.node) {
        accumulate(grads[edge.node.get()], input_grads[i], edge, node.op);
      } else {
        accumulate_into_leaf(edge, input_grads[i], node.op);
      }
    }
    if (g_grad_ready_hook) report_final_leaves(node, leaf_edges_left);
    if (!retain_graph) {  // frees what it saved; the graph cannot be walked again
      node.backward = nullptr;
      node.backward_onto = nullptr;
    }
  }
}

void Tensor::backward(bool retain_graph) const {
  check_requires_grad(*this);
  PF_CHECK(numel() == 1, "backward", "needs a scalar (one-element) loss, got ", describe(*this));
  pf::backward(*this, Tensor::ones(shape(), dtype(), device()), retain_graph);
}

}  // namespace pf
