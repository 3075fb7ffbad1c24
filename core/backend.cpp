#include "core/backend.h"

#include <atomic>
#include <mutex>

#include "core/cpu/cpu_backend.h"
#include "core/ops.h"

namespace pf {

namespace {
std::atomic<Backend*> g_cuda_backend{nullptr};
int g_cuda_device = 0;  // the device g_cuda_backend serves
Backend* (*g_cuda_factory)(int) = nullptr;
std::mutex g_cuda_mutex;  // the first use of a lazy backend creates it once

Backend& cuda_backend_for(int device) {
  std::lock_guard<std::mutex> lock(g_cuda_mutex);
  if (g_cuda_backend == nullptr) {
    PF_CHECK(g_cuda_factory != nullptr, "backend",
             "no CUDA backend: this build has PF_CUDA=OFF or pf_cuda is not linked",
             " (HINT: configure with -DPF_CUDA=ON on a machine with nvcc)");
    Backend* created = g_cuda_factory(device);
    g_cuda_device = device;
    g_cuda_backend = created;
  }
  return *g_cuda_backend;
}
}  // namespace

void Backend::linear(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu, const Tensor& out) {
  copy(Tensor::view_of(bias.storage(), out.shape(), {0, 1}, bias.offset(), bias.dtype()), out);  // [R, N]
  gemm(x, w, out, 1.0, 1.0);
  if (relu) unary(UnaryOp::Relu, out, out);
}

void Backend::linear_concat(const Tensor& x, const std::vector<Tensor>& ws, const std::vector<Tensor>& biases,
                            const Tensor& out) {
  linear(x, ops::concat(ws, 1), ops::concat(biases, 0), false, out);
}

void Backend::linear_concat_dx(const Tensor& g, const std::vector<Tensor>& ws, const Tensor& dx) {
  gemm(g, ops::transpose(ops::concat(ws, 1), 0, 1), dx, 1.0, 0.0);
}

void Backend::linear_weight_grad(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor& dbias) {
  const Tensor xt = Tensor::view_of(x.storage(), {x.size(1), x.size(0)}, {x.stride(1), x.stride(0)}, x.offset(),
                                    x.dtype());  // x^T [K, R]
  gemm(xt, dy, dw, 1.0, 0.0);
  sum(dy, 1, dy.size(0), dy.size(1), dbias);  // [1, R, N] -> [N]
}

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "neg";
    case UnaryOp::Exp: return "exp";
    case UnaryOp::Log: return "log";
    case UnaryOp::Sqrt: return "sqrt";
    case UnaryOp::Tanh: return "tanh";
    case UnaryOp::Sigmoid: return "sigmoid";
    case UnaryOp::Relu: return "relu";
    case UnaryOp::Silu: return "silu";
    case UnaryOp::Abs: return "abs";
    case UnaryOp::Gelu: return "gelu";
  }
  return "?";
}

bool unary_derivative_reads_output(UnaryOp op) {
  switch (op) {
    case UnaryOp::Exp:
    case UnaryOp::Sqrt:
    case UnaryOp::Tanh:
    case UnaryOp::Sigmoid:
    case UnaryOp::Relu: return true;
    default: return false;
  }
}

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Eq: return "eq";
  }
  return "?";
}

Backend& backend_for(Device device) {
  if (device.is_cpu()) return cpu_backend();
  Backend* backend = g_cuda_backend.load(std::memory_order_acquire);
  Backend& cuda = backend ? *backend : cuda_backend_for(device.index);
  PF_CHECK(device.index == g_cuda_device, "backend", "this process uses cuda:", g_cuda_device, ", asked for ", device,
           " (HINT: one GPU per process; pick it with train.device or --device, or CUDA_VISIBLE_DEVICES)");
  return cuda;
}

void set_cuda_backend_factory(Backend* (*factory)(int device)) {
  std::lock_guard<std::mutex> lock(g_cuda_mutex);
  g_cuda_factory = factory;
}

void register_cuda_backend(Backend* backend, int device) {
  std::lock_guard<std::mutex> lock(g_cuda_mutex);
  g_cuda_device = device;
  g_cuda_backend = backend;
}

bool cuda_backend_available() { return g_cuda_backend != nullptr; }

}  // namespace pf
