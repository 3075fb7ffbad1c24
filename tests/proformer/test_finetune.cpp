// Tests of fine-tuning (train.init_from, train.reset_head) and of the plots
// that pf-train and pf-infer --ism draw with gnuplot, on a tiny checkpoint.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "proformer/data/dataset.h"
#include "proformer/inference/ism.h"
#include "reports/plots.h"
#include "proformer/training/trainer.h"
#include "tiny_checkpoint.h"

using namespace pf;
using namespace pf::proformer;
using namespace pf::test;
namespace fs = std::filesystem;

namespace {

const std::string kDemoTrain = std::string(PF_SOURCE_DIR) + "/data/demo/demo_train.txt";

// A "trained" tiny checkpoint: seed 99, an expression head bias of 0.5 (a
// fresh head has 0) and labels on a scale of its own (mean 100, std 10).
std::string trained_checkpoint(const TempDir& dir) {
  return save_tiny_checkpoint(dir.file("pretrained"), 99, {100.0, 10.0}, [](Proformer& model) {
    NoGradGuard no_grad;
    ops::copy_(model.expr_head->bias, Tensor::full({1}, 0.5f));
  });
}

std::vector<float> values(const nn::Module& model, const std::string& name) {
  return model.parameter(name).to_vector<float>();
}

// Runs `action` with an empty PATH, so no gnuplot can be found.
void without_path(const std::function<void()>& action) {
  const char* path = getenv("PATH");
  const std::string saved = path ? path : "";
  setenv("PATH", "", 1);
  action();
  setenv("PATH", saved.c_str(), 1);
}

}  // namespace

TEST_CASE("finetune: initial_model copies the checkpoint, with reset_head all but a re-initialised expression head") {
  TempDir dir;
  Config config = tiny_checkpoint_config();
  config.train.seed = 1;
  config.train.init_from = trained_checkpoint(dir);
  const LoadedModel checkpoint = load_model(config.train.init_from);

  SUBCASE("all weights") {
    const std::unique_ptr<Proformer> model = initial_model(config);
    for (auto& [name, p] : model->named_parameters())
      CHECK_MESSAGE(values(*model, name) == values(*checkpoint.model, name), name);
  }
  SUBCASE("all but the expression head") {
    config.train.reset_head = true;
    const std::unique_ptr<Proformer> model = initial_model(config);
    const Proformer fresh(config.model, uint64_t(config.train.seed));
    for (auto& [name, p] : model->named_parameters()) {
      const bool head = name.rfind("expr_head.", 0) == 0;
      // The head is as at construction (glorot-uniform kernel, zero bias), the rest as in the checkpoint.
      CHECK_MESSAGE(values(*model, name) == values(head ? fresh : *checkpoint.model, name), name);
      if (head) CHECK_MESSAGE(values(*model, name) != values(*checkpoint.model, name), name);
    }
    CHECK(values(*model, "expr_head.bias") == std::vector<float>{0.0f});
    const double glorot_limit = std::sqrt(6.0 / (config.model.dim + 1));
    for (float w : values(*model, "expr_head.weight")) CHECK(std::abs(w) <= glorot_limit);
  }
  SUBCASE("another architecture is an error naming the checkpoint") {
    config.model.dim = 32;
    const std::string error = error_of([&] { initial_model(config); });
    CHECK(error.find("train.init_from: " + model_file(config.train.init_from)) != std::string::npos);
    CHECK(error.find("\"dim\":32") != std::string::npos);
  }
}

TEST_CASE("finetune: configs/finetune.yaml starts from the demo model with a fresh head") {
  const std::string configs = std::string(PF_SOURCE_DIR) + "/configs/";
  const Config finetune = load_config(configs + "finetune.yaml");
  CHECK(finetune.model == load_config(configs + "demo.yaml").model);  // the checkpoint's architecture
  CHECK(finetune.train.init_from == "runs/demo/best");
  CHECK(finetune.train.reset_head);
  CHECK(finetune.train.epochs == 2);
  CHECK(finetune.schedule.name == "cosine");
  CHECK(finetune.schedule.lr <= 1e-4);
  CHECK(finetune.output.dir == "runs/finetune");
}

TEST_CASE("finetune: a few steps from a tiny checkpoint, on the new data's label scale, with plots") {
  TempDir dir;
  Config config = tiny_checkpoint_config();
  config.data.train = kDemoTrain;
  config.data.max_lines = 64;
  config.data.val_fraction = 0.25;
  config.train.batch_size = 16;
  config.train.max_steps = 3;
  config.train.log_every = 1;
  config.train.threads = 1;
  config.train.init_from = trained_checkpoint(dir);
  config.train.reset_head = true;
  config.schedule.name = "constant";
  config.schedule.lr = 1e-4;
  config.output.dir = dir.file("run");

  const TrainSummary summary = train(config, {});
  CHECK(summary.steps == 3);

  // The labels were z-scored with the new data's statistics, not the checkpoint's.
  EncodedDataset data = EncodedDataset::from_tsv(kDemoTrain, int(config.model.seq_len));
  data.labels.resize(64);
  const TrainValSplit split = split_train_val(64, config.data.val_fraction, uint64_t(config.data.split_seed));
  const LabelStats expected = label_stats(data.labels, split.train);
  const LoadedModel best = load_model(summary.best_checkpoint);
  CHECK(std::abs(best.state.label_stats.mean - expected.mean) < 1e-5);
  CHECK(std::abs(best.state.label_stats.std - expected.std) < 1e-5);

  // val_predictions.tsv: a header and one row per validation promoter, measured first.
  const std::string predictions = read_text(dir.file("run/val_predictions.tsv"));
  CHECK(predictions.rfind("measured\tpredicted\n", 0) == 0);
  CHECK(std::count(predictions.begin(), predictions.end(), '\n') == long(split.val.size()) + 1);

  // The plots pf-train draws from the run's files: drawn when gnuplot is found, never an error.
  if (plot_training(dir.file("run"))) {
    CHECK(fs::file_size(dir.file("run/learning_curves.png")) > 0);
    CHECK(fs::file_size(dir.file("run/val_scatter.png")) > 0);
  } else {
    MESSAGE("gnuplot not installed: training plots not checked");
  }
}

TEST_CASE("plots: without gnuplot the plots are skipped, never an error") {
  TempDir dir;
  write_text(dir.file("metrics.csv"), "step,epoch,lr,loss,mse,ce,val_mse,val_pearson,val_spearman,samples_per_s\n");
  IsmResult ism{"seq/1", "ACG", 1.0, {{0, 0.1, -0.1, 0.2}, {0.1, 0, 0.3, -0.2}, {0.2, 0.1, 0, 0.0}}};
  without_path([&] {
    CHECK_FALSE(plot_training(dir.path.string()));
    CHECK_FALSE(plot_ism(ism, dir.file("ism")));
  });
  CHECK_FALSE(fs::exists(dir.file("learning_curves.png")));
  CHECK_FALSE(fs::exists(dir.file("ism/seq_1.ism.png")));

  // With gnuplot (when installed) the heat map appears under the cleaned-up id.
  if (plot_ism(ism, dir.file("ism"))) CHECK(fs::file_size(dir.file("ism/seq_1.ism.png")) > 0);
}
