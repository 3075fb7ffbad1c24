// Our packed GEMM (core/cpu/sgemm/) against Eigen's product in f64, with
// the loops of every instruction set this CPU runs (AVX2, AVX-512), on
// shapes that cut its blocks and tiles unevenly, on strided and transposed
// operands, with alpha/beta, on 1 and 2 threads; its bf16/f16 products bit for
// bit against its f32 product of the same rounded inputs, rounded once; and
// CpuBackend::gemm's batch with a broadcast operand, in f32 and the half types.
#include <doctest/doctest.h>
#include <omp.h>

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/sgemm.h"
#include "core/ops.h"
#include "f32_engines.h"

using namespace pf;

#if PF_HAVE_SGEMM
namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A [rows, cols] matrix in a buffer with a padded leading dimension, stored
// row-major or as a transposed view (column-major).
struct Strided {
  std::vector<float> buffer;
  cpu::ConstMatrix view;
  MatrixD values;  // the same numbers, for the reference
};

Strided make_matrix(int64_t rows, int64_t cols, bool transposed, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t outer = transposed ? cols : rows, inner = transposed ? rows : cols, ld = inner + 3;
  Strided m{std::vector<float>(size_t(outer * ld), NAN), {}, MatrixD(rows, cols)};
  m.view = transposed ? cpu::ConstMatrix{m.buffer.data(), 1, ld} : cpu::ConstMatrix{m.buffer.data(), ld, 1};
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      m.values(i, j) = m.buffer[size_t(i * m.view.row_stride + j * m.view.col_stride)] = dist(rng);
  return m;
}

// One case, for the failure messages.
std::string describe(int64_t M, int64_t N, int64_t K, bool ta, bool tb, float alpha, float beta, int threads) {
  return "M " + std::to_string(M) + " N " + std::to_string(N) + " K " + std::to_string(K) + " a " +
         (ta ? "transposed" : "row-major") + " b " + (tb ? "transposed" : "row-major") + " alpha " +
         std::to_string(alpha) + " beta " + std::to_string(beta) + " threads " + std::to_string(threads);
}

// The instruction sets whose loops this CPU runs: each is tested.
std::vector<cpu::SgemmIsa> isas_this_cpu_runs() {
  std::vector<cpu::SgemmIsa> isas;
  for (cpu::SgemmIsa isa : {cpu::SgemmIsa::avx2, cpu::SgemmIsa::avx512})
    if (cpu::cpu_runs(isa)) isas.push_back(isa);
  return isas;
}

// sgemm with isa's loops on `threads` OpenMP threads.
void run_sgemm(cpu::SgemmIsa isa, int64_t M, int64_t N, int64_t K, float alpha, cpu::ConstMatrix a,
               cpu::ConstMatrix b, float beta, cpu::OutMatrix c, int threads) {
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(threads);
  cpu::sgemm_with(isa, M, N, K, alpha, a, b, beta, c, threads > 1);
  omp_set_num_threads(saved_threads);
}

// Runs sgemm on one case and compares every element of c (and that the
// padding of c is untouched) with alpha * A @ B + beta * C0 in f64. The
// tolerance scales with sum_k |alpha a_ik b_kj| + |beta c_ij|: fp32 rounding of
// a K-term sum, far below the error of any wrong index or missed tile.
void check_case(cpu::SgemmIsa isa, int64_t M, int64_t N, int64_t K, bool ta, bool tb, float alpha, float beta,
                int threads) {
  INFO(cpu::sgemm_isa_name(isa), " ", describe(M, N, K, ta, tb, alpha, beta, threads));
  std::mt19937 rng(unsigned(M * 131 + N * 17 + K));
  const Strided a = make_matrix(M, K, ta, rng), b = make_matrix(K, N, tb, rng);
  Strided c = make_matrix(M, N, false, rng);
  const int64_t ldc = c.view.row_stride;
  if (beta == 0.0f)  // beta == 0 must not read c, so NaN there must not leak
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) c.buffer[size_t(i * ldc + j)] = c.values(i, j) = NAN;
  const MatrixD expected =
      double(alpha) * a.values * b.values + (beta == 0.0f ? MatrixD::Zero(M, N) : MatrixD(double(beta) * c.values));
  const MatrixD scale = std::abs(double(alpha)) * a.values.cwiseAbs() * b.values.cwiseAbs() +
                        (beta == 0.0f ? MatrixD::Zero(M, N) : MatrixD(std::abs(double(beta)) * c.values.cwiseAbs()));

  run_sgemm(isa, M, N, K, alpha, a.view, b.view, beta, {c.buffer.data(), ldc}, threads);

  int64_t wrong = 0;
  std::string first_wrong;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      const double got = c.buffer[size_t(i * ldc + j)], want = expected(i, j);
      if (!(std::abs(got - want) <= 1e-5 * (1e-3 + scale(i, j))) && wrong++ == 0)
        first_wrong = "c[" + std::to_string(i) + ", " + std::to_string(j) + "] = " + std::to_string(got) +
                      ", expected " + std::to_string(want);
    }
    for (int64_t j = N; j < ldc; ++j) wrong += !std::isnan(c.buffer[size_t(i * ldc + j)]);  // padding: untouched
  }
  INFO(first_wrong);
  CHECK(wrong == 0);
}

// m's numbers rounded to T, in a buffer with m's layout (NaN padding stays
// NaN); m itself (buffer and values) then holds the rounded numbers in f32.
template <typename T>
std::vector<T> round_to(Strided& m) {
  std::vector<T> half(m.buffer.size());
  for (size_t i = 0; i < half.size(); ++i) m.buffer[i] = load(half[i] = store<T>(m.buffer[i]));
  return half;
}

// One case in T (bf16 or f16): a, b and c rounded to T, the product in T, and
// the f32 product of the same rounded numbers with the same strides and
// threads. The half product widens in its packing and rounds in its store,
// and sums in the same order, so each element must be the f32 result rounded
// once: compared bit for bit (and the padding of c untouched).
template <typename T>
void check_half_case(cpu::SgemmIsa isa, int64_t M, int64_t N, int64_t K, bool ta, bool tb, float alpha, float beta,
                     int threads) {
  const DType dtype = dtype_of<T>::value;
  INFO(cpu::sgemm_isa_name(isa), " ", std::string(dtype_name(dtype)), " ",
       describe(M, N, K, ta, tb, alpha, beta, threads));
  std::mt19937 rng(unsigned(M * 131 + N * 17 + K));
  Strided a = make_matrix(M, K, ta, rng), b = make_matrix(K, N, tb, rng), c = make_matrix(M, N, false, rng);
  const int64_t ldc = c.view.row_stride;
  if (beta == 0.0f)  // beta == 0 must not read c
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) c.buffer[size_t(i * ldc + j)] = NAN;
  const std::vector<T> a_half = round_to<T>(a), b_half = round_to<T>(b);
  std::vector<T> c_half = round_to<T>(c);

  run_sgemm(isa, M, N, K, alpha, a.view, b.view, beta, {c.buffer.data(), ldc}, threads);
  run_sgemm(isa, M, N, K, alpha, {a_half.data(), a.view.row_stride, a.view.col_stride, dtype},
            {b_half.data(), b.view.row_stride, b.view.col_stride, dtype}, beta, {c_half.data(), ldc, dtype}, threads);

  int64_t wrong = 0;
  std::string first_wrong;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const float f32 = c.buffer[size_t(i * ldc + j)], got = load(c_half[size_t(i * ldc + j)]);
      const bool ok = j < N ? c_half[size_t(i * ldc + j)].bits == store<T>(f32).bits : std::isnan(got);
      if (!ok && wrong++ == 0)
        first_wrong = "c[" + std::to_string(i) + ", " + std::to_string(j) + "] = " + std::to_string(got) +
                      ", the f32 product " + std::to_string(f32);
    }
  INFO(first_wrong);
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("sgemm: matches Eigen on uneven shapes, strides, alpha and beta") {
  for (cpu::SgemmIsa isa : isas_this_cpu_runs()) {
    const cpu::SgemmBlocking blk = cpu::sgemm_blocking(isa);
    struct Shape3 {
      int64_t M, N, K;
    };
    const std::vector<Shape3> shapes = {
        {1, 1, 1},   {1, 37, 5},  {37, 1, 5},  {5, 7, 1},  {13, 17, 29}, {blk.mr, blk.nr, 8},   // tiles and edges
        {blk.mc + 3, 2 * blk.nr + 5, 9},                                                        // two row blocks
        {7, 11, blk.kc + 5},                                                                    // two k-slices
        {5, blk.nc + 7, 3},                                                                     // two column panels
    };
    for (const Shape3& s : shapes)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) check_case(isa, s.M, s.N, s.K, ta, tb, 1.0f, 0.0f, 1);
    check_case(isa, 29, 45, blk.kc + 5, false, true, 0.5f, 1.0f, 1);  // beta 1 over two k-slices
    check_case(isa, 29, 45, 31, true, false, -2.0f, 0.75f, 1);
    check_case(isa, 31, 19, 0, false, false, 1.0f, 0.5f, 1);  // K = 0: c = beta * c
    // Two threads: B~ packed by both, the row blocks split between them.
    check_case(isa, blk.mc * 2 + 7, 3 * blk.nr + 1, blk.kc + 9, false, false, 1.0f, 0.0f, 2);
    check_case(isa, blk.mr + 1, 70, 33, true, true, 1.0f, 1.0f, 2);  // fewer rows than two full blocks
  }
}
TEST_CASE("sgemm: bf16 and f16 products are the f32 product of the same inputs, rounded once") {
  for (cpu::SgemmIsa isa : isas_this_cpu_runs()) {
    const cpu::SgemmBlocking blk = cpu::sgemm_blocking(isa);
    auto each_half = [](auto&& check) {
      check.template operator()<bf16>();
      check.template operator()<f16>();
    };
    each_half([&]<typename T>() {
      for (auto [M, N, K] : {std::array<int64_t, 3>{1, 1, 1}, {5, 7, 1}, {13, 17, 29}, {blk.mr, blk.nr, 8},
                             {blk.mc + 3, 2 * blk.nr + 5, 9}})  // edges, full tiles, two row blocks, K = 1
        for (bool ta : {false, true})
          for (bool tb : {false, true}) check_half_case<T>(isa, M, N, K, ta, tb, 1.0f, 0.0f, 1);
      check_half_case<T>(isa, 29, 45, 31, true, false, -2.0f, 0.75f, 1);
      // Three k-slices: the partial sums stay in f32 between them, beta * c is
      // added in the first and c rounded in the last.
      check_half_case<T>(isa, 29, 45, 2 * blk.kc + 5, false, true, 0.5f, 1.0f, 1);
      check_half_case<T>(isa, blk.mc * 2 + 7, 3 * blk.nr + 1, blk.kc + 9, false, false, 1.0f, 0.0f, 2);
      check_half_case<T>(isa, blk.mr + 1, 70, 2 * blk.kc + 1, true, true, 1.0f, -1.5f, 2);
      check_half_case<T>(isa, 31, 19, 0, false, false, 1.0f, 0.5f, 1);  // K = 0: c = beta * c, rounded
    });
  }
}
#endif  // PF_HAVE_SGEMM (otherwise f32 goes through Eigen, tested with the ops)

TEST_CASE("sgemm: CpuBackend::gemm batch with a broadcast operand and transposed views, on either f32 engine") {
  // a [3, M, K] a transposed view of [3, K, M]; b [K, N] broadcast to [3, K, N] (stride 0).
  const int64_t B = 3, M = 23, N = 41, K = 37;
  Generator gen(5);
  Tensor a = ops::transpose(ops::uniform({B, K, M}, -1, 1, gen), 1, 2);
  Tensor b2 = ops::uniform({K, N}, -1, 1, gen);
  Tensor b = ops::expand(b2, {B, K, N});
  REQUIRE(b.stride(0) == 0);
  test::for_each_f32_engine([&](cpu::F32Engine engine) {
    INFO(CpuBackend::gemm_kernels());
    CHECK((CpuBackend::gemm_kernels().rfind("f32 onednn", 0) == 0) == (engine == cpu::F32Engine::onednn));
    for (double beta : {0.0, 1.0}) {
      Tensor c = ops::uniform({B, M, N}, -1, 1, gen);
      const std::vector<double> c0 = c.to_vector<double>();
      cpu_backend().gemm(a, b, c, 0.5, beta);
      const std::vector<double> av = a.to_vector<double>(), bv = b2.to_vector<double>(), got = c.to_vector<double>();
      int64_t wrong = 0;
      for (int64_t item = 0; item < B; ++item)
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double want = beta * c0[size_t((item * M + i) * N + j)];
            for (int64_t k = 0; k < K; ++k) want += 0.5 * av[size_t((item * M + i) * K + k)] * bv[size_t(k * N + j)];
            wrong += !(std::abs(got[size_t((item * M + i) * N + j)] - want) <= 1e-5 * (1 + std::abs(want)));
          }
      INFO("beta ", beta);
      CHECK(wrong == 0);
    }
  });
}

TEST_CASE("sgemm: CpuBackend::gemm of half types with a broadcast operand is the f32 product rounded") {
  // As above, in bf16 and f16: each item of the batch goes through sgemm's
  // half path (unless oneDNN has native kernels here, which sum differently).
  const int64_t B = 3, M = 23, N = 41, K = 37;
  Generator gen(6);
  for (DType half : {DType::bf16, DType::f16}) {
    INFO(std::string(dtype_name(half)));
    if (CpuBackend::native_half_gemm(half)) continue;
    Tensor a = ops::transpose(ops::to(ops::uniform({B, K, M}, -1, 1, gen), half), 1, 2);  // [B, M, K]
    Tensor b = ops::expand(ops::to(ops::uniform({K, N}, -1, 1, gen), half), {B, K, N});
    Tensor c = ops::to(ops::uniform({B, M, N}, -1, 1, gen), half);
    Tensor c32 = ops::to(c, DType::f32);
    cpu_backend().gemm(ops::to(a, DType::f32), ops::to(b, DType::f32), c32, 0.5, 1.0);
    cpu_backend().gemm(a, b, c, 0.5, 1.0);
    CHECK(c.to_vector<float>() == ops::to(c32, half).to_vector<float>());
  }
}
