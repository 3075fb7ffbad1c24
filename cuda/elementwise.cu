// Elementwise kernels, one thread per element: unary functions and their
// derivatives, broadcasting binary ops, ops with a scalar, x + alpha * y. The
// formulas are those of core/cpu/elementwise.cpp and add_scaled.cpp; A is the
// arithmetic type (f32 for halves).
#include "core/ops.h"
#include "cuda/common.cuh"

namespace pf::cuda {

namespace {

template <typename A>
__device__ A sigmoid(A x) {
  return A(1) / (A(1) + exp(-x));
}

constexpr double kSqrtHalf = 0.70710678118654752440;     // 1 / sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;   // 1 / sqrt(2 pi)

template <typename A>
__device__ A apply_unary(UnaryOp op, A x) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return exp(x);
    case UnaryOp::Log: return log(x);
    case UnaryOp::Sqrt: return sqrt(x);
    case UnaryOp::Tanh: return tanh(x);
    case UnaryOp::Sigmoid: return sigmoid(x);
    case UnaryOp::Relu: return x > A(0) ? x : A(0);
    case UnaryOp::Silu: return x * sigmoid(x);
    case UnaryOp::Abs: return fabs(x);
    case UnaryOp::Gelu: return A(0.5) * x * (A(1) + erf(x * A(kSqrtHalf)));
  }
  return x;
}

// d op(x) / dx, from the input x or the output y, whichever is simpler.
template <typename A>
__device__ A unary_derivative(UnaryOp op, A x, A y) {
  switch (op) {
    case UnaryOp::Neg: return A(-1);
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return A(1) / x;
    case UnaryOp::Sqrt: return A(0.5) / y;
    case UnaryOp::Tanh: return A(1) - y * y;
    case UnaryOp::Sigmoid: return y * (A(1) - y);
    case UnaryOp::Relu: return y > A(0) ? A(1) : A(0);
    case UnaryOp::Silu: {
      const A s = sigmoid(x);
      return s * (A(1) + x * (A(1) - s));
    }
    case UnaryOp::Abs: return x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0));
    case UnaryOp::Gelu:  // Phi(x) + x phi(x)
      return A(0.5) * (A(1) + erf(x * A(kSqrtHalf))) + x * A(kInvSqrt2Pi) * exp(A(-0.5) * x * x);
  }
  return A(0);
}

template <typename A>
__device__ A apply_binary(BinaryOp op, A a, A b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Maximum: return a > b ? a : b;
    case BinaryOp::Eq: return a == b ? A(1) : A(0);
  }
  return a;
}

template <typename A>
__device__ A apply_scalar(ScalarOp op, A x, A s) {
  switch (op) {
    case ScalarOp::Add: return x + s;
    case ScalarOp::Mul: return x * s;
    case ScalarOp::Pow: return pow(x, s);
    case ScalarOp::Rsub: return s - x;
    case ScalarOp::ClampMin: return x > s ? x : s;
    case ScalarOp::ClampMax: return x < s ? x : s;
  }
  return x;
}

// All kernels: thread i handles element i of out (contiguous, n elements).
template <typename T>
__global__ void unary_kernel(UnaryOp op, const T* x, T* out, int64_t n) {
  const int64_t i = global_index();
  if (i < n) out[i] = from_compute<T>(apply_unary(op, to_compute(x[i])));
}

template <typename T>
__global__ void unary_backward_kernel(UnaryOp op, const T* x, const T* y, const T* dy, T* dx, int64_t n) {
  const int64_t i = global_index();
  if (i < n) dx[i] = from_compute<T>(to_compute(dy[i]) * unary_derivative(op, to_compute(x[i]), to_compute(y[i])));
}

// a and b are strided views of out's shape; `layout` maps i to their offsets.
template <typename T>
__global__ void binary_kernel(BinaryOp op, const T* a, const T* b, StridedPair layout, T* out, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  int64_t ia, ib;
  layout.offsets(i, ia, ib);
  out[i] = from_compute<T>(apply_binary(op, to_compute(a[ia]), to_compute(b[ib])));
}

// Products and sums rounded one at a time: nvcc would contract a * b + c into
// one fused multiply-add, which the CPU's add_scaled does not.
__device__ inline float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ inline float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ inline double add_rn(double a, double b) { return __dadd_rn(a, b); }

// out = x + alpha * y; x and y are strided views of out's shape, as in binary_kernel.
// y holds TY: T, or a half type (widened as it is loaded) where T is f32.
template <typename T, typename TY>
__global__ void add_scaled_kernel(const T* x, const TY* y, compute_t<T> alpha, StridedPair layout, T* out, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  int64_t ix, iy;
  layout.offsets(i, ix, iy);
  out[i] = from_compute<T>(add_rn(to_compute(x[ix]), mul_rn(alpha, to_compute(y[iy]))));
}

// x [n] -> out [n] of TO: T, or a half type for an f32 T (one rounding).
template <typename T, typename TO>
__global__ void scalar_kernel(ScalarOp op, const T* x, compute_t<T> s, TO* out, int64_t n) {
  const int64_t i = global_index();
  if (i < n) out[i] = from_compute<TO>(apply_scalar(op, to_compute(x[i]), s));
}

}  // namespace

void CudaBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out) {
  dispatch_float_or_half(x.dtype(), unary_op_name(op), [&]<typename T>() {
    const int64_t n = x.numel();
    launch(stream_, blocks_for(n), unary_kernel<T>, op, x.data<T>(), out.data<T>(), n);
  });
}

void CudaBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx) {
  dispatch_float_or_half(x.dtype(), unary_op_name(op), [&]<typename T>() {
    const int64_t n = x.numel();
    launch(stream_, blocks_for(n), unary_backward_kernel<T>, op, x.data<T>(), y.data<T>(), dy.data<T>(), dx.data<T>(),
           n);
  });
}

namespace {

// launch_views(a, b, out) once when the two views fit one launch (at most
// kMaxDims merged dims), else once per slice of the first dim: the CPU takes
// any rank, so do we.
template <typename LaunchViews>
void for_launchable_views(const Tensor& a, const Tensor& b, const Tensor& out, LaunchViews&& launch_views) {
  if (!fits_one_launch(out.shape(), a.strides(), b.strides())) {
    for_each_slice(out.shape(), [&](int64_t d, int64_t i) {
      for_launchable_views(ops::narrow(a, d, i, 1), ops::narrow(b, d, i, 1), ops::narrow(out, d, i, 1), launch_views);
    });
    return;
  }
  launch_views(a, b, out);
}

}  // namespace

void CudaBackend::binary(BinaryOp op, const Tensor& a_all, const Tensor& b_all, const Tensor& out_all) {
  for_launchable_views(a_all, b_all, out_all, [&](const Tensor& a, const Tensor& b, const Tensor& out) {
    dispatch_float_or_half(out.dtype(), binary_op_name(op), [&]<typename T>() {
      const int64_t n = out.numel();
      const StridedPair layout = strided_pair(out.shape(), a.strides(), b.strides(), binary_op_name(op));
      launch(stream_, blocks_for(n), binary_kernel<T>, op, a.data<T>(), b.data<T>(), layout, out.data<T>(), n);
    });
  });
}

void CudaBackend::add_scaled(const Tensor& x_all, const Tensor& y_all, double alpha, const Tensor& out_all) {
  for_launchable_views(x_all, y_all, out_all, [&](const Tensor& x, const Tensor& y, const Tensor& out) {
    const int64_t n = out.numel();
    const StridedPair layout = strided_pair(out.shape(), x.strides(), y.strides(), "add_scaled");
    auto run = [&]<typename T, typename TY>() {
      launch(stream_, blocks_for(n), add_scaled_kernel<T, TY>, x.data<T>(), y.data<TY>(), compute_t<T>(alpha), layout,
             out.data<T>(), n);
    };
    if (y.dtype() == DType::bf16 && out.dtype() == DType::f32)
      run.template operator()<float, bf16>();
    else if (y.dtype() == DType::f16 && out.dtype() == DType::f32)
      run.template operator()<float, f16>();
    else
      dispatch_float_or_half(out.dtype(), "add_scaled", [&]<typename T>() { run.template operator()<T, T>(); });
  });
}

void CudaBackend::scalar(ScalarOp op, const Tensor& x, double s, const Tensor& out) {
  dispatch_mixed(x.dtype(), out.dtype(), "scalar op", [&]<typename T, typename TO>() {
    const int64_t n = x.numel();
    launch(stream_, blocks_for(n), scalar_kernel<T, TO>, op, x.data<T>(), compute_t<T>(s), out.data<TO>(), n);
  });
}

}  // namespace pf::cuda
