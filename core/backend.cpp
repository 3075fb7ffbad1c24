#include "core/backend.h"

#include "core/cpu/cpu_backend.h"

namespace pf {

namespace {
Backend* g_cuda_backend = nullptr;
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
  PF_CHECK(g_cuda_backend != nullptr, "backend", "no CUDA backend: this build has PF_CUDA=OFF or pf_cuda is not linked",
           " (HINT: configure with -DPF_CUDA=ON on a machine with nvcc)");
  return *g_cuda_backend;
}

void register_cuda_backend(Backend* backend) { g_cuda_backend = backend; }
bool cuda_backend_available() { return g_cuda_backend != nullptr; }

}  // namespace pf
