// Tests of every pf-infer mode with several checkpoints (an Ensemble) on tiny
// checkpoints: N copies of one checkpoint give the single model's output with
// sd 0, and two different checkpoints give the average of two separate runs,
// with the spread (sd, n, sign agreement) that follows from those runs.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "reports/tsv.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/attribution.h"
#include "proformer/inference/ensemble.h"
#include "proformer/inference/inference.h"
#include "proformer/inference/ism.h"
#include "proformer/inference/variants.h"
#include "tiny_checkpoint.h"

using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

const std::vector<std::string> kPromoters = {"ACGTTGCAACGGATCCATGA", "TTTTTAAAAACCCGGGTACA", "GGGATCCATGCANTTGCA"};

// Each mode's numbers for one ensemble: predictions, variant effects (with
// their spreads), ISM effects of the first promoter and saliency scores.
struct ModeOutputs {
  std::vector<double> predictions, effects;
  std::vector<MemberSpread> prediction_spreads, effect_spreads;
  IsmResult ism;
  std::vector<Attribution> saliency;
};

ModeOutputs run_modes(const Ensemble& models, const TempDir& dir) {
  std::ostringstream fasta, pairs;
  for (size_t k = 0; k < kPromoters.size(); ++k) {
    fasta << ">p" << k << "\n" << kPromoters[k] << "\n";
    pairs << "v" << k << "\t" << kPromoters[k] << "\t" << k + 3 << "\tA\n";  // base k + 3 becomes A
  }
  write_text(dir.file("in.fa"), fasta.str());
  write_text(dir.file("pairs.tsv"), pairs.str());
  ModeOutputs out;
  InferenceOptions options;
  options.batch_size = 2;  // a full batch and a partial one
  run_inference(models, {dir.file("in.fa")}, options, [&](const Prediction& p) {
    out.predictions.push_back(p.value);
    out.prediction_spreads.push_back(p.spread);
  });
  predict_variants(models, dir.file("pairs.tsv"), 2, [&](const VariantEffect& e) {
    out.effects.push_back(e.effect());
    out.effect_spreads.push_back(e.spread);
  });
  out.ism = in_silico_mutagenesis(models, "p0", kPromoters[0], 16);
  AttributionOptions saliency;
  saliency.batch_size = 2;
  run_attributions(models, {dir.file("in.fa")}, options, saliency,
                   [&](const Attribution& a) { out.saliency.push_back(a); });
  return out;
}

}  // namespace

TEST_CASE("ensemble modes: N copies of one checkpoint give the single model's output and sd 0") {
  TempDir dir;
  const std::string a = save_tiny_checkpoint(dir.file("a"), 1, {5.0, 2.0});
  const ModeOutputs alone = run_modes(Ensemble({a}), dir);
  const ModeOutputs copies = run_modes(Ensemble({a, a, a}), dir);
  CHECK(copies.predictions == alone.predictions);
  CHECK(copies.effects == alone.effects);
  for (const auto* spreads : {&copies.prediction_spreads, &copies.effect_spreads})
    for (const MemberSpread& s : *spreads) {
      CHECK(s.n == 3);
      CHECK(s.sd == 0);
      CHECK(s.sign_agreement == 1);
    }
  CHECK(copies.ism.members == 3);
  CHECK(copies.ism.effects == alone.ism.effects);
  for (const auto& row : copies.ism.effect_sd)
    for (double sd : row) CHECK(sd == 0);
  REQUIRE(copies.saliency.size() == alone.saliency.size());
  for (size_t k = 0; k < alone.saliency.size(); ++k) {
    CHECK(copies.saliency[k].spread.n == 3);
    CHECK(copies.saliency[k].prediction == alone.saliency[k].prediction);
    for (size_t i = 0; i < alone.saliency[k].scores.size(); ++i)
      for (size_t b = 0; b < 4; ++b) {
        CHECK(std::abs(copies.saliency[k].scores[i][b] - alone.saliency[k].scores[i][b]) <= 1e-7f);
        CHECK(copies.saliency[k].score_sd[i][b] <= 1e-7f);
      }
  }
}

TEST_CASE("ensemble modes: two checkpoints give the average of two separate runs within 1e-6") {
  TempDir dir;
  const std::string a = save_tiny_checkpoint(dir.file("a"), 1, {5.0, 2.0});
  const std::string b = save_tiny_checkpoint(dir.file("b"), 2, {5.0, 2.0});
  const ModeOutputs run_a = run_modes(Ensemble({a}), dir), run_b = run_modes(Ensemble({b}), dir);
  const ModeOutputs both = run_modes(Ensemble({a, b}), dir);
  auto check_pair = [](double mean, const MemberSpread& spread, double x, double y) {
    CHECK(std::abs(mean - (x + y) / 2) <= 1e-6);
    CHECK(spread.n == 2);
    CHECK(std::abs(spread.sd - std::abs(x - y) / 2) <= 1e-6);  // population sd of two values
    CHECK(spread.sign_agreement == ((x > 0) == (y > 0) ? 1.0 : 0.5));
  };
  for (size_t k = 0; k < kPromoters.size(); ++k) {
    check_pair(both.predictions[k], both.prediction_spreads[k], run_a.predictions[k], run_b.predictions[k]);
    check_pair(both.effects[k], both.effect_spreads[k], run_a.effects[k], run_b.effects[k]);
  }
  bool members_differ = false;
  for (size_t k = 0; k < kPromoters.size(); ++k) members_differ |= both.prediction_spreads[k].sd > 1e-3;
  CHECK(members_differ);  // else the test would not tell a mean from one member's value

  CHECK(std::abs(both.ism.reference - (run_a.ism.reference + run_b.ism.reference) / 2) <= 1e-6);
  for (size_t i = 0; i < both.ism.effects.size(); ++i)
    for (size_t c = 0; c < 4; ++c) {
      const double x = run_a.ism.effects[i][c], y = run_b.ism.effects[i][c];
      CHECK(std::abs(both.ism.effects[i][c] - (x + y) / 2) <= 1e-6);
      CHECK(std::abs(both.ism.effect_sd[i][c] - std::abs(x - y) / 2) <= 1e-6);
    }
  for (size_t k = 0; k < kPromoters.size(); ++k) {
    const Attribution &x = run_a.saliency[k], &y = run_b.saliency[k], &mean = both.saliency[k];
    CHECK(std::abs(mean.prediction - (x.prediction + y.prediction) / 2) <= 1e-6);
    CHECK(std::abs(mean.spread.sd - std::abs(x.prediction - y.prediction) / 2) <= 1e-6);
    for (size_t i = 0; i < mean.scores.size(); ++i)
      for (size_t c = 0; c < 4; ++c) {
        CHECK(std::abs(mean.scores[i][c] - (x.scores[i][c] + y.scores[i][c]) / 2) <= 1e-6f);
        CHECK(std::abs(mean.score_sd[i][c] - std::abs(x.scores[i][c] - y.scores[i][c]) / 2) <= 1e-6f);
      }
  }
}

TEST_CASE("ensemble modes: the spread of a quantity over the members") {
  MemberSpread s = spread_over_members({1.0, 3.0, -2.0, 2.0});
  CHECK(s.mean == 1.0);
  CHECK(s.sd == doctest::Approx(std::sqrt((0.0 + 4 + 9 + 1) / 4)).epsilon(1e-12));
  CHECK(s.n == 4);
  CHECK(s.sign_agreement == 0.75);  // three of four are positive, like the mean
  s = spread_over_members({0.5});
  CHECK(s.sd == 0);
  CHECK(s.n == 1);
  CHECK(spread_tsv_columns(s, true).empty());  // a single model keeps its columns
  CHECK(spread_tsv_header("effect", 1, true).empty());
  CHECK(spread_tsv_header("effect", 3, true) == "\teffect_sd\tn\tsign_agreement");
  CHECK(spread_tsv_columns(spread_over_members({1.0, 2.0, 3.0}), false) == "\t0.816497\t3");  // sqrt(2/3)
  CHECK(contains(error_of([] { spread_over_members({}); }), "no member"));
}
