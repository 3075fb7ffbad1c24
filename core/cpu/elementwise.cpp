// Elementwise kernels: unary functions and their derivatives, broadcasting
// binary ops, ops with a scalar (x + alpha * y is in add_scaled.cpp).
//
// Each with_* helper below turns the runtime op into a function object and
// calls the loop body with it once, so the switch happens outside the loop
// and the compiler inlines (and vectorises) the arithmetic inside it.
#include <cmath>

#include "core/cpu/cpu_backend.h"

namespace pf {

namespace {

template <typename T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

constexpr double kSqrtHalf = 0.70710678118654752440;     // 1 / sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;   // 1 / sqrt(2 pi)

// body(f) with f(x) = op(x).
template <typename T, typename Body>
void with_unary(UnaryOp op, Body&& body) {
  switch (op) {
    case UnaryOp::Neg: return body([](T x) { return -x; });
    case UnaryOp::Exp: return body([](T x) { return std::exp(x); });
    case UnaryOp::Log: return body([](T x) { return std::log(x); });
    case UnaryOp::Sqrt: return body([](T x) { return std::sqrt(x); });
    case UnaryOp::Tanh: return body([](T x) { return std::tanh(x); });
    case UnaryOp::Sigmoid: return body([](T x) { return sigmoid(x); });
    case UnaryOp::Relu: return body([](T x) { return x > T(0) ? x : T(0); });
    case UnaryOp::Silu: return body([](T x) { return x * sigmoid(x); });
    case UnaryOp::Abs: return body([](T x) { return std::abs(x); });
    case UnaryOp::Gelu: return body([](T x) { return T(0.5) * x * (T(1) + std::erf(x * T(kSqrtHalf))); });
  }
}

// body(f) with f(x, y) = d op(x) / dx, from the input x or the output y = op(x),
// whichever is simpler.
template <typename T, typename Body>
void with_unary_derivative(UnaryOp op, Body&& body) {
  switch (op) {
    case UnaryOp::Neg: return body([](T, T) { return T(-1); });
    case UnaryOp::Exp: return body([](T, T y) { return y; });
    case UnaryOp::Log: return body([](T x, T) { return T(1) / x; });
    case UnaryOp::Sqrt: return body([](T, T y) { return T(0.5) / y; });
    case UnaryOp::Tanh: return body([](T, T y) { return T(1) - y * y; });
    case UnaryOp::Sigmoid: return body([](T, T y) { return y * (T(1) - y); });
    case UnaryOp::Relu: return body([](T, T y) { return y > T(0) ? T(1) : T(0); });
    case UnaryOp::Silu:
      return body([](T x, T) {
        T s = sigmoid(x);
        return s * (T(1) + x * (T(1) - s));
      });
    case UnaryOp::Abs: return body([](T x, T) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); });
    case UnaryOp::Gelu:  // Phi(x) + x phi(x)
      return body([](T x, T) {
        return T(0.5) * (T(1) + std::erf(x * T(kSqrtHalf))) + x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
      });
  }
}

// body(f) with f(a, b) = a op b.
template <typename T, typename Body>
void with_binary(BinaryOp op, Body&& body) {
  switch (op) {
    case BinaryOp::Add: return body([](T a, T b) { return a + b; });
    case BinaryOp::Sub: return body([](T a, T b) { return a - b; });
    case BinaryOp::Mul: return body([](T a, T b) { return a * b; });
    case BinaryOp::Div: return body([](T a, T b) { return a / b; });
    case BinaryOp::Maximum: return body([](T a, T b) { return a > b ? a : b; });
    case BinaryOp::Eq: return body([](T a, T b) { return a == b ? T(1) : T(0); });
  }
}

// body(f) with f(x) = x op s.
template <typename T, typename Body>
void with_scalar(ScalarOp op, T s, Body&& body) {
  switch (op) {
    case ScalarOp::Add: return body([s](T x) { return x + s; });
    case ScalarOp::Mul: return body([s](T x) { return x * s; });
    case ScalarOp::Pow: return body([s](T x) { return std::pow(x, s); });
    case ScalarOp::Rsub: return body([s](T x) { return s - x; });
    case ScalarOp::ClampMin: return body([s](T x) { return x > s ? x : s; });
    case ScalarOp::ClampMax: return body([s](T x) { return x < s ? x : s; });
  }
}

// out[i] = f(in[i]) over n contiguous elements (f computes in compute_t<T>),
// stored as TO: T, or a half type for an f32 T (one rounding).
template <typename T, typename TO = T, typename F>
void map_elements(const T* in, TO* out, int64_t n, F f) {
#pragma omp parallel for simd if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) out[i] = store<TO>(f(load(in[i])));
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out) {
  dispatch_float_or_half(x.dtype(), unary_op_name(op), [&]<typename T>() {
    with_unary<compute_t<T>>(op, [&](auto f) { map_elements(x.data<T>(), out.data<T>(), x.numel(), f); });
  });
}

void CpuBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx) {
  dispatch_float_or_half(x.dtype(), unary_op_name(op), [&]<typename T>() {
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    const T* g = dy.data<T>();
    T* o = dx.data<T>();
    const int64_t n = x.numel();
    with_unary_derivative<compute_t<T>>(op, [&](auto derivative) {
#pragma omp parallel for simd if (n > kParallelThreshold)
      for (int64_t i = 0; i < n; ++i) o[i] = store<T>(load(g[i]) * derivative(load(xp[i]), load(yp[i])));
    });
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float_or_half(out.dtype(), binary_op_name(op), [&]<typename T>() {
    with_binary<compute_t<T>>(op, [&](auto op_f) {
      map_broadcast<T>(a, b, out, [&](T x, T y) { return store<T>(op_f(load(x), load(y))); });
    });
  });
}

void CpuBackend::scalar(ScalarOp op, const Tensor& x, double s, const Tensor& out) {
  dispatch_mixed(x.dtype(), out.dtype(), "scalar op", [&]<typename T, typename TO>() {
    using C = compute_t<T>;
    with_scalar<C>(op, C(s), [&](auto f) { map_elements(x.data<T>(), out.data<TO>(), x.numel(), f); });
  });
}

}  // namespace pf
