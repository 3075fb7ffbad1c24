// oneDNN's matmul (Debian's libdnnl, PF_DNNL) for the CPU backend's GEMM,
// and the batched GEMM of bf16/f16 tensors where our packed GEMM does not take
// them (gemm.cpp sends them to sgemm.cpp, which widens and rounds in its
// packing and stores, unless oneDNN has native kernels here):
//   oneDNN: its matmul reads the operands in place, strides and all; for half
//     types it uses the CPU's bf16 dot-product instructions (AVX512-BF16
//     vdpbf16ps, AMX) where it has them: twice the f32 rate. Used for half
//     types only when oneDNN has a native kernel for the case on this CPU; its
//     reference kernel ("ref:any"), which it picks when the CPU lacks them,
//     is far slower than sgemm, so it is never used. f32 products go to it
//     where it is this machine's f32 engine (f32_engine.h, gemm.cpp).
//   fallback, for half types on CPUs that run none of sgemm's loops (no
//     AVX2+FMA): the operands converted to f32, Eigen's f32 GEMM, the result
//     rounded to the half type.
#include "core/cpu/cpu_backend.h"
#include "core/ops.h"

#ifdef PF_DNNL
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#endif

namespace pf {

namespace {

#ifdef PF_DNNL
// The matrix of batch item shape [..., rows, cols] as a oneDNN memory
// descriptor over the tensor's own strides; a broadcast batch dim (stride 0)
// becomes a size-1 dim, which oneDNN broadcasts.
dnnl::memory::desc strided_desc(const Tensor& t, dnnl::memory::data_type type) {
  dnnl::memory::dims dims, strides;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const bool broadcast = d < t.dim() - 2 && t.stride(d) == 0;
    dims.push_back(broadcast ? 1 : t.size(d));
    strides.push_back(broadcast ? 0 : t.stride(d));
  }
  return dnnl::memory::desc(dims, type, strides);
}

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// c = alpha * a @ b + beta * c through oneDNN's matmul; false (nothing done)
// when oneDNN would use its reference kernel or rejects the case.
bool dnnl_gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
  using dt = dnnl::memory::data_type;
  const dt type = c.dtype() == DType::bf16 ? dt::bf16 : c.dtype() == DType::f16 ? dt::f16 : dt::f32;
  try {
    dnnl::memory::desc a_md = strided_desc(a, type), b_md = strided_desc(b, type), c_md = strided_desc(c, type);
    dnnl::primitive_attr attr;
    if (alpha != 1.0) attr.set_output_scales(0, {float(alpha)});
    if (beta != 0.0) {
      dnnl::post_ops post;
      post.append_sum(float(beta));
      attr.set_post_ops(post);
    }
    // oneDNN keeps created primitives in its own cache, so this is cheap for
    // a shape seen before.
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, cpu_engine());
    if (std::string(pd.impl_info_str()).rfind("ref", 0) == 0) return false;
    dnnl::memory am(a_md, cpu_engine(), a.raw_data()), bm(b_md, cpu_engine(), b.raw_data()),
        cm(c_md, cpu_engine(), c.raw_data());
    dnnl::stream stream(cpu_engine());
    dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    stream.wait();
    return true;
  } catch (const dnnl::error&) {
    return false;  // unimplemented for this shape/type on this CPU
  }
}
#endif

}  // namespace

bool CpuBackend::native_half_gemm(DType dtype) {
#ifdef PF_DNNL
  static const bool bf16 = [] {
    Tensor a = Tensor::zeros({64, 64}, DType::bf16), c = Tensor::zeros({64, 64}, DType::bf16);
    return dnnl_gemm(a, a, c, 1.0, 0.0);
  }();
  static const bool f16 = [] {
    Tensor a = Tensor::zeros({64, 64}, DType::f16), c = Tensor::zeros({64, 64}, DType::f16);
    return dnnl_gemm(a, a, c, 1.0, 0.0);
  }();
  return dtype == DType::bf16 ? bf16 : dtype == DType::f16 ? f16 : false;
#else
  (void)dtype;
  return false;
#endif
}

bool CpuBackend::onednn_built() {
#ifdef PF_DNNL
  return true;
#else
  return false;
#endif
}

bool CpuBackend::gemm_onednn_f32(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
#ifdef PF_DNNL
  return dnnl_gemm(a, b, c, alpha, beta);
#else
  (void)a, (void)b, (void)c, (void)alpha, (void)beta;
  return false;
#endif
}

void CpuBackend::gemm_half(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
#ifdef PF_DNNL
  if (native_half_gemm(c.dtype()) && dnnl_gemm(a, b, c, alpha, beta)) return;
#endif
  Tensor a32 = ops::to(a, DType::f32), b32 = ops::to(b, DType::f32);  // [..., M, K], [..., K, N] contiguous
  Tensor c32 = beta == 0.0 ? Tensor::empty(c.shape(), DType::f32) : ops::to(c, DType::f32);
  gemm(a32, b32, c32, alpha, beta);
  copy(c32, c);
}

}  // namespace pf
