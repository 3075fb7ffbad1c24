// Reference kernels: the plain, obviously correct twin of each fast kernel
// (llm.c's habit). Naive loops over row-major arrays of double, no Eigen, no
// intrinsics, no threads, so that each reads as its formula. They are slow
// on purpose and used only by tests (tests/core/test_reference_kernels.cpp),
// which check the fast kernels against them at the model's shapes:
//
//   fast kernel                                  its reference twin
//   cpu::sgemm (core/cpu/sgemm.cpp), ops::matmul  gemm
//   CpuBackend::softmax / softmax_backward        softmax / softmax_backward
//   CpuBackend::layer_norm / layer_norm_backward  layer_norm / layer_norm_backward
//
// Computing in double makes the reference's own rounding error about 2^-29
// times that of an f32 kernel, so a test's tolerance is the fast kernel's
// error alone. Half-type inputs are compared by widening them first (bf16 and
// f16 widen to double exactly).
#pragma once
#include <cstdint>

namespace pf::reference {

// c = alpha * a @ b.  a [M, K], b [K, N], c [M, N].
void gemm(int64_t M, int64_t N, int64_t K, double alpha, const double* a, const double* b, double* c);

// y = softmax(x) over each row.  x, y [R, N].
void softmax(int64_t R, int64_t N, const double* x, double* y);

// dx from y = softmax(x) and dy.  y, dy, dx [R, N].
void softmax_backward(int64_t R, int64_t N, const double* y, const double* dy, double* dx);

// y = (x - mean) * rstd * gamma + beta over each row, rstd = 1 / sqrt(var +
// eps) with the population variance.  x, y [R, N]; gamma, beta [N]; mean,
// rstd [R].
void layer_norm(int64_t R, int64_t N, const double* x, const double* gamma, const double* beta, double eps, double* y,
                double* mean, double* rstd);

// dx, dgamma and dbeta of layer_norm from x, its mean and rstd, and dy.
// x, dy, dx [R, N]; gamma, dgamma, dbeta [N]; mean, rstd [R].
void layer_norm_backward(int64_t R, int64_t N, const double* x, const double* gamma, const double* mean,
                         const double* rstd, const double* dy, double* dx, double* dgamma, double* dbeta);

}  // namespace pf::reference
