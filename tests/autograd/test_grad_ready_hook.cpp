// The grad-ready hook of backward() (autograd/node.h), which data-parallel
// training uses to start all-reducing a gradient as soon as it is final.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "autograd/functional.h"

using namespace pf;

namespace {

Tensor leaf(std::vector<double> values) {
  Tensor t = Tensor::from_vector<double>(values, {int64_t(values.size())});
  t.set_requires_grad(true);
  return t;
}

// Records each reported leaf and its .grad at that moment; removes the hook at scope exit.
struct Recorder {
  std::vector<const TensorImpl*> leaves;
  std::vector<std::vector<double>> grads;
  Recorder() {
    set_grad_ready_hook([this](const Tensor& t) {
      leaves.push_back(t.impl_ptr().get());
      grads.push_back(t.grad().to_vector<double>());
    });
  }
  ~Recorder() { set_grad_ready_hook(nullptr); }
};

}  // namespace

TEST_CASE("grad-ready hook: each leaf is reported once, after its last gradient, with the final .grad") {
  Tensor a = leaf({1, 2, 3}), b = leaf({4, 5, 6});
  // a is used twice (two edges): reported only once both are in, as 2b + 1.
  Tensor y = sum(add(mul(a, b), a));
  Recorder recorder;
  y.backward();
  REQUIRE(recorder.leaves.size() == 2);
  CHECK((recorder.leaves[0] == a.impl_ptr().get() || recorder.leaves[1] == a.impl_ptr().get()));
  const size_t ia = recorder.leaves[0] == a.impl_ptr().get() ? 0 : 1;
  CHECK(recorder.grads[ia] == std::vector<double>{5, 6, 7});
  CHECK(recorder.grads[1 - ia] == std::vector<double>{1, 2, 3});
}

TEST_CASE("grad-ready hook: leaves that do not require grad are not reported, and no hook reports nothing") {
  Tensor a = leaf({1, 2}), c = Tensor::from_vector<double>({3, 4}, {2});
  {
    Recorder recorder;
    sum(mul(a, c)).backward();
    REQUIRE(recorder.leaves.size() == 1);
    CHECK(recorder.leaves[0] == a.impl_ptr().get());
  }
  Recorder after;
  set_grad_ready_hook(nullptr);
  sum(mul(a, c)).backward();
  CHECK(after.leaves.empty());
}
