// backward() semantics: accumulation into .grad, reuse of a tensor, grad mode,
// freed graphs, retain_graph, clearing .grad, deep graphs and the lifetime of
// graphs that are never backpropagated.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "autograd/functional.h"
#include "core/storage.h"

using namespace pf;

namespace {

// A leaf [3] f64 tensor that requires grad.
Tensor leaf(std::vector<double> values) {
  Tensor t = Tensor::from_vector<double>(values, {int64_t(values.size())});
  t.set_requires_grad(true);
  return t;
}

std::vector<double> grad_of(const Tensor& t) {
  REQUIRE(t.grad().defined());
  return t.grad().to_vector<double>();
}

// The message of the pf::Error that fn throws ("" if it throws none).
template <typename Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("engine: gradients accumulate into .grad across backward calls") {
  Tensor x = leaf({1, 2, 3});
  sum(x * 3.0).backward();
  CHECK(grad_of(x) == std::vector<double>{3, 3, 3});
  sum(x * x).backward();  // a second, separate graph: + 2x
  CHECK(grad_of(x) == std::vector<double>{5, 7, 9});
}

TEST_CASE("engine: a tensor used twice gets the sum of both gradients") {
  Tensor x = leaf({1, 2, 3});
  sum(x * x + x).backward();  // d/dx = 2x + 1
  CHECK(grad_of(x) == std::vector<double>{3, 5, 7});

  // The same through an intermediate (non-leaf) tensor: y = 2x, loss = y*y + y.
  Tensor z = leaf({1, 2, 3});
  Tensor y = z * 2.0;
  sum(y * y + y).backward();  // d/dz = 2 (2y + 1) = 8z + 2
  CHECK(grad_of(z) == std::vector<double>{10, 18, 26});
  CHECK(!y.grad().defined());  // only leaves keep .grad
}

TEST_CASE("engine: inputs that do not require grad get none") {
  Tensor x = leaf({1, 2, 3});
  Tensor c = Tensor::from_vector<double>({4, 5, 6}, {3});
  sum(x * c).backward();
  CHECK(grad_of(x) == std::vector<double>{4, 5, 6});
  CHECK(!c.grad().defined());
}

TEST_CASE("engine: NoGradGuard records nothing and restores grad mode") {
  Tensor x = leaf({1, 2, 3});
  {
    NoGradGuard no_grad;
    CHECK(!grad_mode_enabled());
    Tensor y = exp(x) * 2.0;
    CHECK(!y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
    { NoGradGuard nested; }
    CHECK(!grad_mode_enabled());  // the inner guard restores "off", not "on"
  }
  CHECK(grad_mode_enabled());
  Tensor y = exp(x);
  CHECK(y.requires_grad());
  CHECK(y.grad_fn() != nullptr);
  CHECK(y.grad_fn()->op == "exp");
}

TEST_CASE("engine: backward through a freed graph throws, naming the cause") {
  Tensor x = leaf({1, 2, 3});
  Tensor loss = sum(x * x);
  loss.backward();
  const std::string msg = error_message([&] { loss.backward(); });
  CHECK(msg.find("freed") != std::string::npos);
  CHECK(msg.find("retain_graph") != std::string::npos);  // and the way out
  CHECK(grad_of(x) == std::vector<double>{2, 4, 6});     // the failed call added nothing
}

TEST_CASE("engine: backward needs a scalar that requires grad") {
  Tensor c = Tensor::from_vector<double>({1, 2}, {2});
  CHECK_THROWS_AS(sum(c).backward(), Error);
  Tensor x = leaf({1, 2, 3});
  {
    NoGradGuard no_grad;
    Tensor y = sum(x * x);
    CHECK(error_message([&] { y.backward(); }).find("does not require grad") != std::string::npos);
  }
  CHECK(error_message([&] { (x * 2.0).backward(); }).find("scalar") != std::string::npos);
}

TEST_CASE("engine: backward from a one-element leaf gives it gradient 1") {
  // Used to dereference the leaf's missing grad_fn.
  Tensor x = leaf({2});
  x.backward();
  CHECK(grad_of(x) == std::vector<double>{1});
}

TEST_CASE("engine: backward(root, grad) seeds a non-scalar root") {
  // The same as sum(y * w).backward(), without recording the product.
  Tensor x = leaf({1, 2, 3});
  Tensor w = Tensor::from_vector<double>({1, -1, 2}, {3});
  backward(x * x, w);  // d/dx = 2 x w
  CHECK(grad_of(x) == std::vector<double>{2, -4, 12});
  CHECK_THROWS_AS(backward(x * x, Tensor::ones({2}, DType::f64)), Error);  // wrong shape
  CHECK_THROWS_AS(backward(x * x, Tensor::ones({3})), Error);              // wrong dtype
}

TEST_CASE("engine: retain_graph allows a second backward") {
  Tensor x = leaf({1, 2, 3});
  Tensor loss = sum(x * x);
  loss.backward(/*retain_graph=*/true);
  loss.backward();
  CHECK(grad_of(x) == std::vector<double>{4, 8, 12});
}

TEST_CASE("engine: set_grad(Tensor()) clears the gradient") {
  Tensor x = leaf({1, 2, 3});
  sum(x * 5.0).backward();
  x.set_grad(Tensor());
  CHECK(!x.grad().defined());
  sum(x * x).backward();  // starts from zero again
  CHECK(grad_of(x) == std::vector<double>{2, 4, 6});
}

TEST_CASE("engine: deep graphs do not overflow the stack") {
  SUBCASE("backward through 10,000 chained adds") {
    Tensor x = leaf({1, 2, 3});
    Tensor y = x;
    for (int i = 0; i < 10000; ++i) y = y + x;
    sum(y).backward();
    CHECK(grad_of(x) == std::vector<double>{10001, 10001, 10001});
  }
  SUBCASE("dropping a 200,000-op graph that was never backpropagated") {
    // Destroying the graph used to recurse once per op and overflowed here.
    Tensor x = Tensor::scalar(1.0, DType::f64).set_requires_grad(true);
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = y + 1.0;
    CHECK(y.item() == 200001.0);
    y = Tensor();
    CHECK(x.is_leaf());
  }
}

TEST_CASE("engine: an unused graph is freed with its output (no reference cycles)") {
  // A backward function that captured its own output would keep the whole graph alive.
  Tensor x = Tensor::from_vector<double>({1, 5, 2, 4, 3, 0, 7, 6}, {2, 4}).set_requires_grad(true);
  Tensor gamma = Tensor::ones({4}, DType::f64), beta = Tensor::zeros({4}, DType::f64);
  std::vector<Tensor> outputs = {layer_norm(x, gamma, beta, 1e-5),
                                 max(x, 1, true),
                                 max(x, 1),
                                 softmax(x),
                                 log_softmax(x),
                                 exp(x),
                                 swiglu(x),
                                 reshape(x, {8})};
  for (Tensor& out : outputs) {
    const std::string op = out.grad_fn()->op;
    INFO(op);
    std::weak_ptr<TensorImpl> watch = out.impl_ptr();
    std::weak_ptr<Node> node = out.grad_fn();
    out = Tensor();
    CHECK(watch.expired());
    CHECK(node.expired());
  }
}

TEST_CASE("engine: ops that return their input unchanged still record a new tensor") {
  // ops::to to the same dtype and a sum of a 0-d tensor hand back the input's
  // handle; the recorded result must still be a separate tensor, or the leaf
  // would become its own parent and lose its gradient.
  Tensor x = leaf({1, 2, 3});
  Tensor same = cast(x, DType::f64);
  CHECK(!same.is_same(x));
  CHECK(x.is_leaf());
  Tensor s = sum(x * x);
  Tensor total = sum(s);  // 0-d: nothing to reduce
  CHECK(!total.is_same(s));
  sum(same).backward();
  total.backward();
  CHECK(grad_of(x) == std::vector<double>{3, 5, 7});
}

TEST_CASE("engine: a node keeps only what its backward reads") {
  // The graph routes gradients through edges, so an activation that no
  // backward reads dies when the forward pass drops it, not at backward().
  Tensor x = Tensor::from_vector<double>({1, 5, 2, 4, 3, 0, 7, 6}, {2, 4}).set_requires_grad(true);
  Tensor w = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2});  // a constant
  auto freed_after = [&](const char* what, auto&& use) {
    INFO(what);
    Tensor input = x * 3.0;  // a fresh intermediate with its own storage
    std::weak_ptr<Storage> data = input.storage();
    Tensor out = use(input);
    input = Tensor();
    CHECK(data.expired());
    return out;
  };
  std::vector<Tensor> outs = {
      freed_after("softmax saves its output", [](const Tensor& t) { return softmax(t); }),
      freed_after("relu saves its output", [](const Tensor& t) { return relu(t); }),
      freed_after("add saves nothing", [&](const Tensor& t) { return add(t, x); }),
      freed_after("mul by a scalar saves nothing", [](const Tensor& t) { return mul(t, 0.5); }),
      freed_after("mul by a constant saves the constant", [&](const Tensor& t) { return mul(t, x.detach()); }),
      freed_after("matmul by a constant saves the constant", [&](const Tensor& t) { return matmul(t, w); }),
      freed_after("views save nothing", [](const Tensor& t) { return reshape(transpose(t, 0, 1), {8}); }),
  };
  // The gradients still flow: d/dx of sum(3x * 0.5) = 1.5.
  sum(outs[3]).backward();
  CHECK(grad_of(x) == std::vector<double>(8, 1.5));
}

TEST_CASE("engine: live storage falls back once the forward pass's temporaries are dropped") {
  Tensor x = Tensor::ones({256, 256}, DType::f64).set_requires_grad(true);
  const size_t before = storage_stats(Device::Kind::CPU).live_bytes;
  Tensor loss = sum(softmax(relu(x * 2.0) + 1.0));
  // Saved: relu's output and softmax's output; the products and sums are gone.
  const size_t saved = storage_stats(Device::Kind::CPU).live_bytes - before;
  CHECK(saved == 2 * 256 * 256 * sizeof(double) + sizeof(double));  // + the 0-d loss
  loss.backward();
  loss = Tensor();
  CHECK(storage_stats(Device::Kind::CPU).live_bytes == before + 256 * 256 * sizeof(double));  // x.grad
}
