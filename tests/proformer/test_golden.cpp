// The C++ model against the independent PyTorch reference
// (tests/reference/make_golden.py): same weights and inputs, then the outputs,
// the loss and every parameter's gradient must agree. Prints one report line
// per tensor, llm.c style, so a passing run reads as a report too.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "nn/safetensors.h"
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

// Compares elementwise, prints "name  max_abs_err  OK/FAIL", returns ok.
bool compare(const std::string& name, const Tensor& actual, const Tensor& expected) {
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), name, ": shape ", shape_str(actual.shape()), " vs ",
                  shape_str(expected.shape()));
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double max_error = 0.0;
  bool ok = true;
  for (size_t i = 0; i < a.size(); ++i) {
    const double error = std::abs(a[i] - e[i]);
    max_error = std::max(max_error, error);
    if (error > kAtol + kRtol * std::abs(e[i])) ok = false;
  }
  std::printf("  %-40s %-14s max|err| %.3e  %s\n", name.c_str(), shape_str(actual.shape()).c_str(), max_error,
              ok ? "OK" : "FAIL");
  return ok;
}

}  // namespace

TEST_CASE("golden: model matches the PyTorch reference (outputs, loss, every gradient)") {
  nn::SafetensorsFile golden = nn::load_safetensors(kGoldenPath);
  REQUIRE(golden.metadata.at("format") == "proformer-golden");
  Proformer model(model_config_from_json(golden.metadata.at("config"), kGoldenPath), 0);
  for (auto& [name, p] : model.named_parameters()) {
    REQUIRE_MESSAGE(golden.tensors.count("param." + name), "golden file lacks param.", name);
    ops::copy_(p, golden.tensors.at("param." + name));
  }
  auto input = [&](const std::string& name) { return golden.tensors.at("input." + name); };

  Generator unused;
  ModelOutput out = model.forward(input("tokens"), unused);
  Loss loss = proformer_loss(out, input("labels_z"), input("targets"), input("mask"), ops::sum(input("mask")).item());
  loss.total.backward();

  std::printf("golden: %s\n", kGoldenPath);
  bool ok = true;
  ok &= compare("output.pred", out.prediction, golden.tensors.at("output.pred"));
  ok &= compare("output.logits", out.logits, golden.tensors.at("output.logits"));
  ok &= compare("output.mse", loss.mse, golden.tensors.at("output.mse"));
  ok &= compare("output.ce", loss.ce, golden.tensors.at("output.ce"));
  ok &= compare("output.loss", loss.total, golden.tensors.at("output.loss"));
  for (auto& [name, p] : model.named_parameters()) {
    REQUIRE_MESSAGE(p.grad().defined(), "no gradient reached ", name);
    ok &= compare("grad." + name, p.grad(), golden.tensors.at("grad." + name));
  }
  CHECK(ok);
}
