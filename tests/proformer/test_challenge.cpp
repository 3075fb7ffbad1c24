// Tests of the DREAM challenge score: the metrics against scipy, the weighted
// score on a hand-computed fixture, a regression on the real public
// leaderboard, and the loading of predictions and labels with their errors.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "proformer/evaluation/challenge.h"
#include "proformer/evaluation/metrics.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace pf::proformer;
using namespace pf::test;

namespace {

const std::string kSourceDir = PF_SOURCE_DIR;
const std::string kPublicLeaderboard = kSourceDir + "/data/public_leaderboard";

// ---- the hand-made fixture ----
//
// Six test sequences 0..5 with measured expression y = 1, 2, 3, 4, 5, 6 and
// predictions p = 3, 2, 1, 4, 6, 5. Each subset has three members, so its
// correlations are easy to compute by hand (d = deviation from the mean):
//
//   subset              members      measured   predicted   r          r²      ρ
//   all                 0..5         1..6       3,2,1,4,6,5 12.5/17.5  25/49   5/7 (values are their ranks)
//   high                3,4,5        4,5,6      4,6,5       1/2        1/4     1/2 (d: -1,0,1 vs -1,1,0)
//   low                 0,1,2        1,2,3      3,2,1       -1         1       -1
//   yeast               2,3,4        3,4,5      1,4,6       15/√228    75/76   1
//   random              1,2,3        2,3,4      2,1,4       6/√84      3/7     1/2
//   challenging         0,4,5        1,5,6      3,6,5       √3/2       3/4     1/2
// Pairs "alt,ref", scored on alt − ref:
//   SNV                 1,0 3,0 5,0  1,3,5      -1,1,2      18/√336    27/28   1
//   motif_perturbation  4,3 5,3 5,0  1,2,5      2,1,2       6/√468     1/13    0 (tie: ranks 2.5,1,2.5)
//   motif_tiling        3,0 4,0 5,0  3,4,5      1,3,2       1/2        1/4     1/2
constexpr double kFixtureR2[] = {25.0 / 49, 1.0 / 4, 1, 75.0 / 76, 3.0 / 7, 3.0 / 4, 27.0 / 28, 1.0 / 13, 1.0 / 4};
constexpr double kFixtureRho[] = {5.0 / 7, 0.5, -1, 1, 0.5, 0.5, 1, 0, 0.5};
const char* const kSubsetNames[] = {
    "all", "high", "low", "yeast", "random", "challenging", "SNV", "motif_perturbation", "motif_tiling"};

// The official formula with its weights written out (independent of the
// weight table in challenge.cpp).
double weighted(const double m[9]) {
  return (1.0 * m[0] + 0.3 * m[1] + 0.3 * m[2] + 0.3 * m[3] + 0.3 * m[4] + 0.5 * m[5] + 1.25 * m[6] + 0.3 * m[7] +
          0.4 * m[8]) /
         4.65;
}

// Writes the fixture's nine label files into `dir`.
void write_fixture_labels(const TempDir& dir) {
  auto singles = [](std::vector<int> indices) {
    nlohmann::json json;
    for (int i : indices) json[std::to_string(i)] = i + 1.0;
    return json.dump();
  };
  auto pairs = [](std::vector<std::pair<int, int>> alt_ref) {
    nlohmann::json json;
    for (auto [alt, ref] : alt_ref) json[std::to_string(alt) + "," + std::to_string(ref)] = {alt + 1.0, ref + 1.0};
    return json.dump();
  };
  write_text(dir.file("ground.json"), singles({0, 1, 2, 3, 4, 5}));
  write_text(dir.file("high_exp_indices.json"), singles({3, 4, 5}));
  write_text(dir.file("low_exp_indices.json"), singles({0, 1, 2}));
  write_text(dir.file("yeast_exp_indices.json"), singles({2, 3, 4}));
  write_text(dir.file("random_exp_indices.json"), singles({1, 2, 3}));
  write_text(dir.file("challenging_exp_indices.json"), singles({0, 4, 5}));
  write_text(dir.file("SNVs_exp_indices.json"), pairs({{1, 0}, {3, 0}, {5, 0}}));
  write_text(dir.file("motif_perturbation_exp_indices.json"), pairs({{4, 3}, {5, 3}, {5, 0}}));
  write_text(dir.file("motif_tiling_exp_indices.json"), pairs({{3, 0}, {4, 0}, {5, 0}}));
}

// The fixture's predictions, plus two for indices without labels.
Predictions fixture_predictions() {
  return {"fixture.json", {{0, 3}, {1, 2}, {2, 1}, {3, 4}, {4, 6}, {5, 5}, {100, 0.5}, {101, -0.5}}};
}

// Predictions equal to the labels of ground.json (which holds every index
// that a subset, pairs included, uses), plus `perturbation(index)`.
Predictions predictions_from_ground(const ChallengeLabels& labels, const std::function<double(int64_t)>& perturbation) {
  Predictions predictions{"ground", {}};
  for (const Measurement& m : labels.subsets.at(0).measurements)
    predictions.values[m.index] = m.expression + perturbation(m.index);
  return predictions;
}

}  // namespace

TEST_CASE("challenge: pearson and spearman (average ranks for ties) match scipy") {
  // Written by tests/reference/make_metric_fixtures.py with scipy.stats.
  std::ifstream in(kSourceDir + "/tests/golden/metric_fixtures.json");
  REQUIRE(in.good());
  const nlohmann::json golden = nlohmann::json::parse(in);
  REQUIRE(golden["fixtures"].size() >= 5);
  for (const nlohmann::json& fixture : golden["fixtures"]) {
    CAPTURE(fixture["name"].get<std::string>());
    const auto x = fixture["x"].get<std::vector<double>>();
    const auto y = fixture["y"].get<std::vector<double>>();
    CHECK(std::abs(pearson(x, y) - fixture["pearson"].get<double>()) < 1e-12);
    CHECK(std::abs(spearman(x, y) - fixture["spearman"].get<double>()) < 1e-12);
  }
}

TEST_CASE("challenge: weighted score on a hand-computed fixture") {
  TempDir dir;
  write_fixture_labels(dir);
  const ChallengeLabels labels = load_labels(dir.path.string());
  REQUIRE(labels.subsets.size() == 9);
  double weight_sum = 0;
  for (size_t i = 0; i < 9; ++i) {
    CHECK(labels.subsets[i].name == kSubsetNames[i]);
    CHECK(labels.subsets[i].pairs == (i >= 6));
    weight_sum += labels.subsets[i].weight;
  }
  CHECK(std::abs(weight_sum - 4.65) < 1e-12);
  // Pair labels hold alt − ref.
  CHECK(labels.subsets[6].measurements[1].index == 3);
  CHECK(labels.subsets[6].measurements[1].reference == 0);
  CHECK(labels.subsets[6].measurements[1].expression == 3.0);

  const ChallengeScore result = score(fixture_predictions(), labels);
  REQUIRE(result.subsets.size() == 9);
  for (size_t i = 0; i < 9; ++i) {
    CAPTURE(kSubsetNames[i]);
    CHECK(result.subsets[i].name == kSubsetNames[i]);
    CHECK(result.subsets[i].n == (i == 0 ? 6 : 3));
    CHECK(std::abs(result.subsets[i].pearson_r2 - kFixtureR2[i]) < 1e-12);
    CHECK(std::abs(result.subsets[i].spearman_rho - kFixtureRho[i]) < 1e-12);
  }
  CHECK(std::abs(result.pearson_score - weighted(kFixtureR2)) < 1e-12);
  CHECK(std::abs(result.spearman_score - weighted(kFixtureRho)) < 1e-12);
  CHECK(result.unused_predictions == 2);

  // The report has a row per subset and both scores; the JSON round-trips.
  const std::string report = format_report(result);
  for (const char* name : kSubsetNames) CHECK(contains(report, std::string("\n") + name + " "));
  CHECK(contains(report, "Pearson score  0.6480"));
  CHECK(contains(report, "Spearman score 0.5837"));
  CHECK(contains(report, "2 predictions for indices without labels"));
  const nlohmann::json json = nlohmann::json::parse(score_to_json(result));
  CHECK(json["pearson_score"].get<double>() == result.pearson_score);
  CHECK(json["spearman_score"].get<double>() == result.spearman_score);
  CHECK(json["unused_predictions"] == 2);
  REQUIRE(json["subsets"].size() == 9);
  CHECK(json["subsets"][7]["name"] == "motif_perturbation");
  CHECK(json["subsets"][7]["pearson_r2"].get<double>() == result.subsets[7].pearson_r2);
}

TEST_CASE("challenge: regression on the public leaderboard") {
  const ChallengeLabels labels = load_labels(kPublicLeaderboard);
  const int64_t sizes[] = {9045, 96, 99, 208, 733, 195, 4670, 328, 263};
  for (size_t i = 0; i < 9; ++i) CHECK(labels.subsets[i].measurements.size() == size_t(sizes[i]));

  SUBCASE("predicting the labels themselves scores 1") {
    const ChallengeScore result = score(predictions_from_ground(labels, [](int64_t) { return 0.0; }), labels);
    CHECK(std::abs(result.pearson_score - 1.0) < 1e-12);
    CHECK(std::abs(result.spearman_score - 1.0) < 1e-12);
    CHECK(result.unused_predictions == 0);
  }
  SUBCASE("a fixed perturbation gives a fixed score") {
    // Predictions for all 71,103 test sequences: label + 0.1·sin(index)
    // (0 for sequences without public label). The committed values were
    // printed by this code with 10 digits; scipy.stats on the same
    // predictions gives 0.9050489499227654 and 0.9093016853184595.
    Predictions predictions = predictions_from_ground(labels, [](int64_t i) { return 0.1 * std::sin(double(i)); });
    for (int64_t i = 0; i < 71103; ++i) predictions.values.emplace(i, 0.1 * std::sin(double(i)));
    const ChallengeScore result = score(predictions, labels);
    CHECK(std::abs(result.pearson_score - 0.9050489499) < 1e-10);
    CHECK(std::abs(result.spearman_score - 0.9093016853) < 1e-10);
    CHECK(result.unused_predictions == 71103 - 9045);
  }
}

TEST_CASE("challenge: a missing prediction names the index, extra predictions are counted") {
  TempDir dir;
  write_fixture_labels(dir);
  const ChallengeLabels labels = load_labels(dir.path.string());
  Predictions predictions = fixture_predictions();
  predictions.values.erase(4);
  CHECK(contains(error_of([&] { score(predictions, labels); }),
                 "fixture.json: no prediction for test index 4 (needed by subset 'all')"));

  // An index only a later subset needs is reported with that subset.
  ChallengeLabels pair_labels{
      {{"high", 0.3, false, {{1, -1, 1.0}, {2, -1, 2.0}}}, {"SNV", 1.25, true, {{1, 2, -1.0}, {1234, 2, 0.5}}}}};
  predictions = {"preds.json", {{1, 0.1}, {2, 0.2}, {7, 0.7}}};
  CHECK(contains(error_of([&] { score(predictions, pair_labels); }),
                 "preds.json: no prediction for test index 1234 (needed by subset 'SNV')"));
  predictions.values[1234] = 0.3;
  CHECK(score(predictions, pair_labels).unused_predictions == 1);  // index 7
}

TEST_CASE("challenge: predictions load from DREAM JSON, pf-infer TSV and index<TAB>value TSV") {
  TempDir dir;
  const std::map<int64_t, double> expected = {{0, 1.5}, {3, -2.0}, {12, 0.25}};
  auto loaded = [&](const std::string& name, const std::string& text) {
    write_text(dir.file(name), text);
    const Predictions predictions = load_predictions(dir.file(name));
    CHECK(predictions.source == dir.file(name));
    return std::map<int64_t, double>(predictions.values.begin(), predictions.values.end());
  };
  CHECK(loaded("p.json", "\n{\"0\": 1.5,\n \"3\": -2, \"12\": 2.5e-1}\n") == expected);
  CHECK(loaded("p.tsv",
               "id\tsequence\tprediction\tprediction_z\n0\tACGT\t1.5\t0.1\n\n3\tAC\t-2\t-0.3\r\n"
               "12\tA\t0.25\t0\n") == expected);
  CHECK(loaded("plain.tsv", "0\t1.5\n3\t-2\n12\t0.25") == expected);
}

TEST_CASE("challenge: bad predictions and labels give errors naming the file and what is wrong") {
  TempDir dir;
  auto error_for = [&](const std::string& text) {
    write_text(dir.file("p"), text);
    return error_of([&] { load_predictions(dir.file("p")); });
  };
  const std::string p = dir.file("p");
  CHECK(contains(error_for(""), p + ": no predictions"));
  CHECK(contains(error_for("{\"0\": 1,"), p + ": the file is not valid JSON"));
  CHECK(contains(error_for("[1, 2]"), p + ": expected a JSON object"));
  CHECK(contains(error_for("{}"), p + ": the JSON object is empty"));
  CHECK(contains(error_for("{\"a\": 1}"), p + ": key 'a' is not a test index"));
  CHECK(contains(error_for("{\"-1\": 1}"), p + ": key '-1' is not a test index"));
  CHECK(contains(error_for("{\"1\": \"x\"}"), p + ": the value of key '1' is not a finite number"));
  CHECK(contains(error_for("0\t1\n1\tabc\n"), p + ":2: prediction 'abc' is not a finite number"));
  CHECK(contains(error_for("0\t1\n1\tnan\n"), p + ":2: prediction 'nan' is not a finite number"));
  CHECK(contains(error_for("0\t1\n1\t2\t3\n"), p + ":2: 3 tab-separated columns (expected index<TAB>value)"));
  CHECK(contains(error_for("0\t1\n0\t2\n"), p + ":2: test index 0 is given twice"));
  CHECK(contains(error_for("id\tsequence\tprediction\tprediction_z\nseq1\tACGT\t1\t0\n"),
                 p + ":2: id 'seq1' is not a test index"));
  CHECK(contains(error_for("id\tvalue\n"), p + ":1: the header has no 'prediction' column"));
  CHECK(contains(error_for("id\tsequence\tprediction\tprediction_z\n"), p + ": no predictions (only a header)"));

  write_fixture_labels(dir);
  write_text(dir.file("SNVs_exp_indices.json"), "{\"3;0\": [1, 2]}");
  CHECK(contains(error_of([&] { load_labels(dir.path.string()); }), "SNVs_exp_indices.json: key '3;0' is not a pair"));
  write_text(dir.file("SNVs_exp_indices.json"), "{\"3,0\": 1}");
  CHECK(contains(error_of([&] { load_labels(dir.path.string()); }),
                 "SNVs_exp_indices.json: the value of key '3,0' is not [alt_expression, ref_expression]"));
  fs::remove(dir.file("SNVs_exp_indices.json"));
  CHECK(contains(error_of([&] { load_labels(dir.path.string()); }), "SNVs_exp_indices.json: cannot open"));
}
