// Tests of the ensemble (proformer/inference/ensemble.h) on tiny checkpoints:
// each member's predictions equal that model predicting alone, mean and sd
// follow from them, and members that read a different input or predict on a
// different label scale are refused with both files named.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "proformer/data/sequence.h"
#include "proformer/inference/ensemble.h"
#include "proformer/inference/predict.h"
#include "proformer/training/trainer.h"
#include "tiny_checkpoint.h"

using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

// Three promoters encoded for seq_len 100: [3, 200].
std::vector<uint8_t> three_promoters() {
  std::vector<uint8_t> tokens;
  for (const std::string promoter : {"ACGTTGCAAC", "GGGATCCATGCA", "TTTTTAAAAACCCGG"}) {
    tokens.resize(tokens.size() + 2 * kSeqLen);
    encode_promoter(promoter, kSeqLen, tokens.data() + tokens.size() - 2 * kSeqLen);
  }
  return tokens;
}

}  // namespace

TEST_CASE("ensemble: member predictions, mean and sd") {
  TempDir dir;
  const std::vector<std::string> paths = {save_tiny_checkpoint(dir.file("a"), 1, {5.0, 2.0}),
                                          save_tiny_checkpoint(dir.file("b"), 2, {5.0, 2.0}),
                                          save_tiny_checkpoint(dir.file("c"), 3, {5.0, 2.0})};
  const Ensemble ensemble(paths);
  REQUIRE(ensemble.size() == 3);
  CHECK(ensemble.checkpoint(1) == paths[1]);
  const std::vector<uint8_t> tokens = three_promoters();
  const EnsemblePredictions p = ensemble.predict(tokens.data(), 3, 2);  // a full batch and a partial one
  REQUIRE(p.members == 3);
  REQUIRE(p.rows == 3);
  for (int64_t m = 0; m < 3; ++m) {
    const LoadedModel alone = load_model(paths[size_t(m)]);
    for (int64_t i = 0; i < 3; ++i) {
      const float z = predict_encoded(*alone.model, tokens.data() + i * 2 * kSeqLen, 1, 1)[0];
      CHECK(std::abs(p.value(m, i) - (z * 2.0f + 5.0f)) <= 1e-5f);
    }
  }
  for (int64_t i = 0; i < 3; ++i) {
    const double a = p.value(0, i), b = p.value(1, i), c = p.value(2, i), mean = (a + b + c) / 3;
    CHECK(p.spread[size_t(i)].mean == doctest::Approx(mean).epsilon(1e-12));
    const double sd = std::sqrt(((a - mean) * (a - mean) + (b - mean) * (b - mean) + (c - mean) * (c - mean)) / 3);
    CHECK(p.spread[size_t(i)].sd == doctest::Approx(sd).epsilon(1e-12));
    CHECK(p.spread[size_t(i)].sd > 0);  // three different models disagree
  }

  const Ensemble one({paths[0]});
  const EnsemblePredictions q = one.predict(tokens.data(), 3, 8);
  for (int64_t i = 0; i < 3; ++i) {
    CHECK(q.spread[size_t(i)].mean == double(p.value(0, i)));
    CHECK(q.spread[size_t(i)].sd == 0);
  }
}

TEST_CASE("ensemble: refuses members on another label scale or input length, naming both files") {
  TempDir dir;
  const std::string a = save_tiny_checkpoint(dir.file("a"), 1, {5.0, 2.0});
  const std::string other_mean = save_tiny_checkpoint(dir.file("other_mean"), 2, {5.5, 2.0});
  const std::string other_std = save_tiny_checkpoint(dir.file("other_std"), 2, {5.0, 2.5});
  std::string message = error_of([&] { Ensemble({a, other_mean}); });
  CHECK(contains(message, "label scale"));
  CHECK(contains(message, a));
  CHECK(contains(message, other_mean));
  CHECK(contains(error_of([&] { Ensemble({a, other_std}); }), "label scale"));

  proformer::Config config = tiny_checkpoint_config();
  config.model.seq_len = 80;
  const Proformer shorter(config.model, 1);
  TrainState state;
  state.label_stats = {5.0, 2.0};
  save_checkpoint(dir.file("short"), shorter, nullptr, state, "");
  message = error_of([&] { Ensemble({a, dir.file("short")}); });
  CHECK(contains(message, "80 positions"));
  CHECK(contains(message, a));
  CHECK(contains(message, dir.file("short")));

  CHECK(contains(error_of([&] { Ensemble(std::vector<std::string>{}); }), "no checkpoint"));
}

TEST_CASE("ensemble: members trained with different train.seed share the label scale (configs/ensemble.yaml)") {
  TempDir dir;
  std::vector<std::string> members;
  for (const int64_t seed : {1, 2}) {
    proformer::Config config = tiny_config(dir.file(seed == 1 ? "member1" : "member2"));
    config.train.seed = seed;
    config.train.max_steps = 2;
    train(config, TrainOptions{});
    members.push_back(config.output.dir + "/last");
  }
  const Ensemble ensemble(members);  // same data and split_seed: accepted
  CHECK(ensemble.member(0).state.label_stats.mean == ensemble.member(1).state.label_stats.mean);
  const std::vector<uint8_t> tokens = three_promoters();
  const EnsemblePredictions p = ensemble.predict(tokens.data(), 3, 3);
  CHECK(p.spread[0].sd > 0);  // different seeds, different models
}
