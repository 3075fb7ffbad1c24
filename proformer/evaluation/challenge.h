// The official score of the DREAM 2022 random promoter challenge:
//
//   load_predictions   predictions keyed by test index (DREAM JSON or TSV)
//   load_labels        the public leaderboard labels (data/public_leaderboard/)
//   score              per-subset Pearson r² and Spearman ρ, and the two
//                      weighted challenge scores
//   format_report      a printable table of a score
//
// The test set is scored on nine subsets: all public sequences, five subsets
// of single sequences (high, low, yeast, random, challenging) and three subsets
// of sequence pairs (SNV, motif_perturbation, motif_tiling), which are scored
// on the expression difference alt − ref. Each challenge score is the weighted
// mean of one metric over the subsets:
//
//   (1.0·all + 0.3·high + 0.3·low + 0.3·yeast + 0.3·random + 0.5·challenging
//    + 1.25·SNV + 0.3·motif_perturbation + 0.4·motif_tiling) / 4.65
//
// with the metric Pearson r² for the "Pearson score" and Spearman ρ for the
// "Spearman score".
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace pf::proformer {

// Predicted expression per test index (0-based line of test_sequences.txt).
struct Predictions {
  std::string source;                          // file name for messages ("<stdin>" for "-")
  std::unordered_map<int64_t, double> values;  // test index -> prediction
};

// Reads predictions from `path` ("-" = stdin; plain or gzip), in one of:
//   - DREAM JSON: {"0": 0.41, "1": -0.2, ...} (the submission format, and
//     `pf-infer --format dream-json`);
//   - pf-infer TSV: header `id<TAB>sequence<TAB>prediction<TAB>prediction_z`
//     (any header whose first column is `id`), using the `id` and `prediction`
//     columns;
//   - plain TSV without header: `index<TAB>value` per line.
// The format is recognised from the first non-empty line ('{' = JSON). Empty
// TSV lines are skipped. Indices are non-negative integers, values finite
// numbers. Throws pf::Error naming the file (and the line for TSV) and what
// was wrong: invalid JSON, a non-integer index, a non-numeric value, a wrong
// number of columns, an index given twice (TSV), or no predictions at all.
Predictions load_predictions(const std::string& path);

// One measurement of a subset. For single-sequence subsets `reference` is -1
// and `expression` the measured expression of `index`; for pair subsets
// `index` is the alternative sequence, `reference` the reference sequence and
// `expression` the measured difference alt − ref.
struct Measurement {
  int64_t index = 0;
  int64_t reference = -1;
  double expression = 0;
};

// The labels of one scored subset, in increasing (index, reference) order.
struct LabelledSubset {
  std::string name;    // "all", "high", ..., "SNV", "motif_perturbation", "motif_tiling"
  double weight = 0;   // its weight in the challenge scores
  bool pairs = false;  // scored on alt − ref differences
  std::vector<Measurement> measurements;
};

// The labels of all nine subsets, in the order of the score formula.
struct ChallengeLabels {
  std::vector<LabelledSubset> subsets;
};

// Reads the public leaderboard labels from `dir`: ground.json ("all"),
// {high,low,yeast,random,challenging}_exp_indices.json ({"index": expression})
// and {SNVs,motif_perturbation,motif_tiling}_exp_indices.json
// ({"alt,ref": [alt_expression, ref_expression]}). Throws pf::Error naming the
// file and the key for a missing or unreadable file, invalid JSON, a bad key
// or value, or an empty subset.
ChallengeLabels load_labels(const std::string& dir);

struct SubsetScore {
  std::string name;
  double weight = 0;
  int64_t n = 0;            // sequences (pair subsets: pairs) scored
  double pearson_r2 = 0;    // squared Pearson correlation
  double spearman_rho = 0;  // Spearman rank correlation (not squared)
};

struct ChallengeScore {
  std::vector<SubsetScore> subsets;  // in the order of the score formula
  double pearson_score = 0;          // weighted mean of pearson_r2
  double spearman_score = 0;         // weighted mean of spearman_rho
  // Predictions for indices that no subset uses; not an error (a submission
  // covers all 71,103 test sequences, the public labels 9,045 of them).
  int64_t unused_predictions = 0;
};

// Scores `predictions` against `labels`. Throws pf::Error when a subset needs
// an index without prediction, naming the first one in formula order, e.g.
// "preds.json: no prediction for test index 1234 (needed by subset 'high')".
ChallengeScore score(const Predictions& predictions, const ChallengeLabels& labels);

// A table with one row per subset (name, weight, n, Pearson r², Spearman ρ),
// then the Pearson and Spearman scores and the number of unused predictions.
std::string format_report(const ChallengeScore& score);

// The score as a JSON object: {"pearson_score", "spearman_score",
// "unused_predictions", "subsets": [{"name", "weight", "n", "pearson_r2",
// "spearman_rho"}, ...]}; numbers round-trip exactly.
std::string score_to_json(const ChallengeScore& score);

}  // namespace pf::proformer
