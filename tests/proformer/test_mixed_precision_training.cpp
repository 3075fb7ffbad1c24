// Mixed precision through the trainer: an f16 run (loss scaler included)
// resumes bit for bit; a non-finite gradient stops the run naming the step
// and the parameter and leaves the last good checkpoint; a bf16-trained
// checkpoint predicts in f32, and pf-infer predicts in any precision. All on
// the tiny configs of test_util.h and tiny_checkpoint.h.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "autograd/autocast.h"
#include "nn/formats/safetensors.h"
#include "proformer/checkpoint.h"
#include "proformer/training/trainer.h"
#include "tiny_checkpoint.h"

namespace fs = std::filesystem;
using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

TrainSummary train_to(Config config, const fs::path& dir, int64_t max_steps, bool resume,
                      const TrainOptions& base = {}) {
  config.output.dir = dir.string();
  config.train.max_steps = max_steps;
  TrainOptions options = base;
  options.resume = resume;
  return train(config, options);
}

}  // namespace

TEST_CASE("mixed precision: an f16 run stopped and resumed ends bit-identical, loss scale included") {
  TempDir tmp("pf_test_amp");
  Config config = tiny_config("");
  config.train.dtype = "f16";
  config.train.loss_scale_growth_interval = 3;  // the scale changes several times in 14 steps
  config.output.checkpoint_every = 7;
  config.train.eval_every = 7;
  train_to(config, tmp.path / "whole", 14, false);
  train_to(config, tmp.path / "stopped", 7, false);
  train_to(config, tmp.path / "stopped", 14, true);
  for (const std::string file : {"last.model.safetensors", "last.optim.safetensors"}) {
    CAPTURE(file);
    CHECK(differing_tensors((tmp.path / "whole" / file).string(), (tmp.path / "stopped" / file).string()).empty());
  }
  const LoadedModel whole = load_model((tmp.path / "whole" / "last").string());
  const LoadedModel resumed = load_model((tmp.path / "stopped" / "last").string());
  CHECK(whole.state.loss_scaler == resumed.state.loss_scaler);
  // 2^16 overflows this model's f16 gradients at first: the scale must have moved.
  CHECK(whole.state.loss_scaler.scale != 65536.0);
  MESSAGE("loss scale after 14 f16 steps: ", whole.state.loss_scaler.scale, ", clean steps ",
          whole.state.loss_scaler.clean_steps);
}

TEST_CASE("mixed precision: an inf gradient in an f16 step skips that update and halves the loss scale") {
  TempDir tmp("pf_test_amp");
  Config config = tiny_config("");
  config.train.dtype = "f16";
  config.train.loss_scale_growth_interval = 2;
  TrainOptions options;
  int64_t step = 0;
  options.after_backward = [&](const nn::NamedTensors& params) {
    if (++step == 6) ops::fill_(params.at(3).second.grad(), std::numeric_limits<double>::infinity());
  };
  train_to(config, tmp.path / "five", 5, false);
  CHECK(train_to(config, tmp.path / "six", 6, false, options).steps == 6);  // not fatal
  const LoadedModel five = load_model((tmp.path / "five" / "last").string());
  const LoadedModel six = load_model((tmp.path / "six" / "last").string());
  CHECK(six.state.loss_scaler.scale == five.state.loss_scaler.scale / 2);
  CHECK(six.state.loss_scaler.clean_steps == 0);
  // Step 6 changed nothing: the weights and Adam moments are those of step 5.
  CHECK(differing_tensors((tmp.path / "five" / "last.model.safetensors").string(),
                          (tmp.path / "six" / "last.model.safetensors").string())
            .empty());
  CHECK(differing_tensors((tmp.path / "five" / "last.optim.safetensors").string(),
                          (tmp.path / "six" / "last.optim.safetensors").string())
            .empty());
}

TEST_CASE("mixed precision: a NaN gradient stops the run with the step and parameter, the last checkpoint loads") {
  for (const char* dtype : {"f32", "bf16"}) {
    CAPTURE(dtype);
    TempDir tmp("pf_test_amp");
    Config config = tiny_config("");
    config.train.dtype = dtype;
    config.output.checkpoint_every = 2;
    TrainOptions options;
    int64_t step = 0;
    std::string poisoned;
    options.after_backward = [&](const nn::NamedTensors& params) {
      if (++step != 5) return;
      poisoned = params.at(7).first;
      Tensor grad = params.at(7).second.grad();
      ops::fill_(ops::narrow(ops::reshape(grad, {-1}), 0, 1, 1), std::numeric_limits<double>::quiet_NaN());
    };
    const std::string error = error_of([&] { train_to(config, tmp.path, 10, false, options); });
    CHECK(contains(error, "step 5"));
    CHECK(contains(error, poisoned));
    const LoadedModel last = load_model((tmp.path / "last").string());
    CHECK(last.state.step == 4);
    for (const auto& [name, p] : last.model->named_parameters())
      for (float v : p.to_vector<float>()) REQUIRE_MESSAGE(std::isfinite(v), name);
  }
}

TEST_CASE("mixed precision: a bf16-trained checkpoint is f32 and predicts in f32 and in bf16") {
  TempDir tmp("pf_test_amp");
  Config config = tiny_config("");
  config.train.dtype = "bf16";
  train_to(config, tmp.path, 6, false);
  nn::SafetensorsFile file = nn::load_safetensors((tmp.path / "last.model.safetensors").string());
  for (const auto& [name, t] : file.tensors) CHECK_MESSAGE(t.dtype() == DType::f32, name);

  const LoadedModel loaded = load_model((tmp.path / "last").string());
  Tensor tokens = Tensor::from_vector(std::vector<uint8_t>(size_t(3 * 2 * config.model.seq_len), 2),
                                      {3, 2 * config.model.seq_len});
  const std::vector<float> f32 = loaded.model->predict(tokens).prediction.to_vector<float>();
  std::vector<float> bf16;
  {
    autocast::AutocastGuard guard(DType::bf16);
    bf16 = ops::to(loaded.model->predict(tokens).prediction, DType::f32).to_vector<float>();
  }
  for (size_t i = 0; i < f32.size(); ++i) {
    CHECK(std::isfinite(f32[i]));
    CHECK(std::abs(bf16[i] - f32[i]) <= 0.05 * (1 + std::abs(f32[i])));  // a few bf16 units through the model
  }
}

TEST_CASE("mixed precision: pf-infer --dtype bf16 and f16 predict like f32 from the same f32 checkpoint") {
  TempDir tmp("pf_test_amp");
  const std::string checkpoint = save_tiny_checkpoint(tmp.file("tiny"), 4, {11.0, 2.5});
  write_text(tmp.file("in.txt"), "ACGTACGTTTGACCAGTACGATCGATCGGGCTAGCTAGCTACGATCGATCGTAGCTAGCTAGCATCGA\n"
                                 "TTTTGGGGCCCCAAAATTTTGGGGCCCCAAAATTTTGGGGCCCCAAAATTTTGGGG\n");
  auto predictions = [&](const std::string& dtype) {
    const ProcessResult r = run_process({app_path("pf-infer"), "--checkpoint", checkpoint, "--dtype", dtype,
                                         tmp.file("in.txt")});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::vector<double> values;  // the prediction column of each TSV row
    std::istringstream rows(r.out);
    std::string row;
    std::getline(rows, row);  // header
    while (std::getline(rows, row)) values.push_back(std::stod(row.substr(row.find('\t', row.find('\t') + 1) + 1)));
    return values;
  };
  const std::vector<double> f32 = predictions("f32");
  REQUIRE(f32.size() == 2);
  for (const std::string dtype : {"bf16", "f16"}) {
    CAPTURE(dtype);
    const std::vector<double> half = predictions(dtype);
    REQUIRE(half.size() == 2);
    for (size_t i = 0; i < 2; ++i) CHECK(std::abs(half[i] - f32[i]) <= 0.05 * (1 + std::abs(f32[i])));
  }
  const ProcessResult bad = run_process({app_path("pf-infer"), "--checkpoint", checkpoint, "--dtype", "i32",
                                         tmp.file("in.txt")});
  CHECK(bad.exit_code != 0);
  CHECK(contains(bad.err, "--dtype"));
}
