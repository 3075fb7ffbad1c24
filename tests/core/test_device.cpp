// Device names: train.device, pf-infer --device and bench_model --device share
// one parser; and a process that never asks for a GPU never needs one.
#include <doctest/doctest.h>

#include "autograd/functional.h"
#include "core/backend.h"
#include "test_util.h"

using namespace pf;
using pf::test::contains;
using pf::test::error_of;

TEST_CASE("device: cpu, cuda and cuda:N are parsed in one place") {
  CHECK(parse_device("cpu") == Device::cpu());
  CHECK(parse_device("cuda") == Device::cuda(0));
  CHECK(parse_device("cuda:3") == Device::cuda(3));
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "CPU", "cuda:123456"})
    CHECK(contains(error_of([&] { parse_device(bad); }), "must be cpu, cuda or cuda:N"));
}

namespace {
int g_asked_for = -1;  // the device the CUDA backend factory below was asked for
Backend* refusing_factory(int device) {
  g_asked_for = device;
  PF_FAIL("test", "no CUDA backend here");
}
}  // namespace

TEST_CASE("device: the CUDA backend is created only when a tensor asks for its GPU") {
  // The apps plug the CUDA backend in lazily (set_cuda_backend_factory), so
  // a device: cpu run never creates it, i.e. never opens a CUDA context.
  set_cuda_backend_factory(&refusing_factory);
  Tensor w = Tensor::ones({4, 3}).set_requires_grad(true);
  sum(relu(matmul(Tensor::ones({2, 4}), w))).backward();
  CHECK(w.grad().defined());
  CHECK(g_asked_for == -1);
  // The first CUDA tensor asks for its own device (cuda:N is honoured).
  CHECK(contains(error_of([] { Tensor::zeros({1}, DType::f32, Device::cuda(2)); }), "no CUDA backend here"));
  CHECK(g_asked_for == 2);
  set_cuda_backend_factory(nullptr);
}
