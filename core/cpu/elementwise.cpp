// Elementwise kernels: unary functions and their derivatives, broadcasting
// binary ops, ops with a scalar.
#include <cmath>

#include "core/cpu/cpu_backend.h"

namespace pf {

namespace {

template <typename T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
T apply_unary(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::Sigmoid: return sigmoid(x);
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::Silu: return x * sigmoid(x);
    case UnaryOp::Abs: return std::abs(x);
  }
  return x;
}

// d op(x) / dx, from the input x or the output y, whichever is simpler.
template <typename T>
T unary_derivative(UnaryOp op, T x, T y) {
  switch (op) {
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Tanh: return T(1) - y * y;
    case UnaryOp::Sigmoid: return y * (T(1) - y);
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::Silu: {
      T s = sigmoid(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case UnaryOp::Abs: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
  }
  return T(0);
}

template <typename T>
T apply_binary(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Maximum: return a > b ? a : b;
    case BinaryOp::Eq: return a == b ? T(1) : T(0);
  }
  return a;
}

template <typename T>
T apply_scalar(ScalarOp op, T x, T s) {
  switch (op) {
    case ScalarOp::Add: return x + s;
    case ScalarOp::Mul: return x * s;
    case ScalarOp::Pow: return std::pow(x, s);
    case ScalarOp::Rsub: return s - x;
    case ScalarOp::ClampMin: return x > s ? x : s;
    case ScalarOp::ClampMax: return x < s ? x : s;
  }
  return x;
}

constexpr int64_t kParallelThreshold = 32768;  // below this, threads cost more than they save

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&]<typename T>() {
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const int64_t n = x.numel();
#pragma omp parallel for simd if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) o[i] = apply_unary(op, in[i]);
  });
}

void CpuBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx) {
  dispatch_float(x.dtype(), unary_op_name(op), [&]<typename T>() {
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    const T* g = dy.data<T>();
    T* o = dx.data<T>();
    const int64_t n = x.numel();
#pragma omp parallel for simd if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) o[i] = g[i] * unary_derivative(op, xp[i], yp[i]);
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(out.dtype(), binary_op_name(op), [&]<typename T>() {
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    T* o = out.data<T>();
    if (a.is_contiguous() && b.is_contiguous()) {  // the common case: no broadcasting
      const int64_t n = out.numel();
#pragma omp parallel for simd if (n > kParallelThreshold)
      for (int64_t i = 0; i < n; ++i) o[i] = apply_binary(op, ap[i], bp[i]);
      return;
    }
    const int64_t row_len = out.dim() == 0 ? 1 : out.size(-1);
    const int64_t a_step = out.dim() == 0 ? 0 : a.stride(-1);
    const int64_t b_step = out.dim() == 0 ? 0 : b.stride(-1);
    for_each_row<2>(out.shape(), {&a.strides(), &b.strides()}, [&](int64_t row, const int64_t* base) {
      const T* a_row = ap + base[0];
      const T* b_row = bp + base[1];
      T* o_row = o + row * row_len;
      for (int64_t i = 0; i < row_len; ++i) o_row[i] = apply_binary(op, a_row[i * a_step], b_row[i * b_step]);
    });
  });
}

void CpuBackend::scalar(ScalarOp op, const Tensor& x, double s, const Tensor& out) {
  dispatch_float(x.dtype(), "scalar op", [&]<typename T>() {
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const T sv = T(s);
    const int64_t n = x.numel();
#pragma omp parallel for simd if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) o[i] = apply_scalar(op, in[i], sv);
  });
}

}  // namespace pf
