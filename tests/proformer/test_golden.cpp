// The C++ model against the independent PyTorch reference
// (tests/reference/make_golden.py): same weights and inputs, then the outputs,
// the loss and every parameter's gradient must agree. Prints one report line
// per tensor, llm.c style, so a passing run reads as a report too.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "autograd/autocast.h"
#include "nn/formats/safetensors.h"
#include "proformer/model.h"

using namespace pf;
using namespace pf::proformer;

namespace {

const char* kGoldenPath = PF_SOURCE_DIR "/tests/golden/proformer_tiny.safetensors";

// f32 computation against an f64 reference: rounding in the GEMM sums (K up to
// 64 here) and in the softmax/layer-norm reductions stays well below 1e-5
// absolute / 1e-4 relative; a real mistake (a missing factor, a shifted
// padding) moves values by far more.
constexpr double kAtol = 1e-5, kRtol = 1e-4;

struct Tolerance {
  double atol, rtol;
  double of_max = 0;  // plus this fraction of the tensor's largest |expected| value (or of `scale`)
  double scale = 0;   // when > 0: the magnitude of_max refers to, for a tensor that is 0 in exact arithmetic
};

double largest_value(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

// Compares elementwise, prints "name  max_abs_err  OK/FAIL", returns ok.
bool compare(const std::string& name, const Tensor& actual, const Tensor& expected, Tolerance tol = {kAtol, kRtol}) {
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), name, ": shape ", shape_str(actual.shape()), " vs ",
                  shape_str(expected.shape()));
  std::vector<double> a = ops::to(actual, DType::f64).to_vector<double>(), e = expected.to_vector<double>();
  const double largest = largest_value(expected);
  const double atol = tol.atol + tol.of_max * (tol.scale > 0 ? tol.scale : largest);
  double max_error = 0.0;
  bool ok = true;
  for (size_t i = 0; i < a.size(); ++i) {
    const double error = std::abs(a[i] - e[i]);
    max_error = std::max(max_error, error);
    if (error > atol + tol.rtol * std::abs(e[i])) ok = false;
  }
  std::printf("  %-40s %-14s max|err| %.3e (%.2e of max)  %s\n", name.c_str(), shape_str(actual.shape()).c_str(),
              max_error, max_error / std::max(tol.scale > 0 ? tol.scale : largest, 1e-30), ok ? "OK" : "FAIL");
  return ok;
}

// Runs the model on the golden inputs (under autocast when dtype is bf16/f16)
// and compares outputs and gradients with the given tolerances.
bool matches_golden(DType dtype, Tolerance outputs, Tolerance gradients) {
  nn::SafetensorsFile golden = nn::load_safetensors(kGoldenPath);
  REQUIRE(golden.metadata.at("format") == "proformer-golden");
  Proformer model(model_config_from_json(golden.metadata.at("config"), kGoldenPath), 0);
  for (auto& [name, p] : model.named_parameters()) {
    REQUIRE_MESSAGE(golden.tensors.count("param." + name), "golden file lacks param.", name);
    ops::copy_(p, golden.tensors.at("param." + name));
  }
  auto input = [&](const std::string& name) { return golden.tensors.at("input." + name); };

  Generator unused;
  ModelOutput out;
  Loss loss;
  {
    autocast::AutocastGuard autocast(dtype);
    out = model.forward(input("tokens"), unused);
    loss = proformer_loss(out, input("labels_z"), input("targets"), input("mask"), ops::sum(input("mask")).item());
  }
  loss.total.backward();

  std::printf("golden (%s): %s\n", dtype_name(dtype), kGoldenPath);
  bool ok = true;
  ok &= compare("output.pred", out.prediction, golden.tensors.at("output.pred"), outputs);
  ok &= compare("output.logits", out.logits, golden.tensors.at("output.logits"), outputs);
  ok &= compare("output.mse", loss.mse, golden.tensors.at("output.mse"), outputs);
  ok &= compare("output.ce", loss.ce, golden.tensors.at("output.ce"), outputs);
  ok &= compare("output.loss", loss.total, golden.tensors.at("output.loss"), outputs);
  for (auto& [name, p] : model.named_parameters()) {
    REQUIRE_MESSAGE(p.grad().defined(), "no gradient reached ", name);
    Tolerance tol = gradients;
    // The key bias gets no gradient in exact arithmetic (softmax ignores a
    // constant added to a row of scores): its terms cancel, so its rounding
    // error is measured against the size of those terms, which the key
    // weight's gradient (the same dK, times inputs of order 1) shows.
    if (const size_t at = name.rfind("attn.k.bias"); at != std::string::npos && tol.of_max > 0)
      tol.scale = largest_value(golden.tensors.at("grad." + name.substr(0, at) + "attn.k.weight"));
    ok &= compare("grad." + name, p.grad(), golden.tensors.at("grad." + name), tol);
  }
  return ok;
}

}  // namespace

TEST_CASE("golden: model matches the PyTorch reference (outputs, loss, every gradient)") {
  CHECK(matches_golden(DType::f32, {kAtol, kRtol}, {kAtol, kRtol}));
}

// bf16 autocast against the f64 reference. One bf16 rounding is off by at
// most u = 2^-8 relative. A GEMM rounds its two inputs and its output (3
// roundings); its K products are summed in f32, so for sums of terms of
// random sign the error grows like the result itself (both ~ sqrt(K)) and the
// relative error stays ~ 3u, not 3u * K. Errors of successive layers add:
// the forward passes through D = 4 GEMM levels per block (FFN up/down, the
// pointwise conv, Q/K/V + scores + context + O counted as 3 levels, FFN2 up
// and down, ...) and the backward through about twice as many. So the
// tolerance, relative to each tensor's largest value: 3u * levels, with
// levels = 8 * blocks for outputs and 16 * blocks for gradients. It is loose
// against worst-case accumulation but far below what a real mistake (a wrong
// cast, a lost gradient: errors of order 1) produces; and the f32 tolerance
// above fails in bf16 (checked below), so this test does run in bf16.
TEST_CASE("golden: the model in bf16 autocast matches the reference within bf16's rounding") {
  const double u = 1.0 / 256;
  nn::SafetensorsFile golden = nn::load_safetensors(kGoldenPath);
  const int64_t blocks = model_config_from_json(golden.metadata.at("config"), kGoldenPath).blocks;
  const Tolerance outputs{0, 0, 3 * u * 8 * double(blocks)}, gradients{0, 0, 3 * u * 16 * double(blocks)};
  CHECK(matches_golden(DType::bf16, outputs, gradients));
  CHECK_FALSE(matches_golden(DType::bf16, {kAtol, kRtol}, {kAtol, kRtol}));
}
