// Model-guided promoter design: from each start, rounds of search for a
// promoter with a higher objective score (objective.h) under the constraints
// (constraints.h).
//
//   greedy  each round, every allowed single substitution of the current
//           design (3 per mutable position) is scored and the best one is
//           taken if it raises the score; otherwise the design stays
//   beam    the same from each of the `width` best designs so far; the next
//           beam is the `width` best of the old beam and all its candidates
//           (greedy is beam with width 1)
//   evolve  a population of `width`: each round `width` children, each the
//           uniform crossover of two tournament-chosen parents plus one random
//           substitution; the next population is the `width` best of parents
//           and children
//
// In all three the best design of a start never gets worse from one round to
// the next. Every round's candidates, of all starts, are scored by one call
// to Ensemble::predict (batch_size rows per forward pass); a candidate of a
// substitution is its parent's encoded tokens with one position substituted
// (substitute_base), not a re-encoded string. The random draws of evolve come
// from `seed` and the start's index only, and the scores do not depend on
// the thread count, so a run is reproducible byte for byte.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proformer/design/constraints.h"
#include "proformer/design/objective.h"
#include "proformer/design/starts.h"
#include "proformer/inference/batcher.h"
#include "proformer/inference/ensemble.h"

namespace pf::proformer::design {

enum class Method { kGreedy, kBeam, kEvolve };

// The method named `name` (greedy, beam, evolve); throws pf::Error otherwise.
Method parse_method(const std::string& name);

struct SearchOptions {
  Method method = Method::kGreedy;
  int64_t rounds = 10;
  int64_t width = 4;  // beam width or evolve population (greedy: 1)
  uint64_t seed = 0;
  int64_t batch_size = kDefaultBatchSize;  // rows per forward pass
  Objective objective;
  Constraints constraints;
};

// A promoter with the ensemble's predictions.
struct Scored {
  std::string promoter;            // flanks removed, upper case
  std::vector<float> predictions;  // [M] each member's, training label scale
  double mean = 0, sd = 0, score = 0;
};

// What one round did, for progress lines and the trajectory plot.
struct RoundReport {
  int64_t round = 0, rounds = 0;  // round 0 scores the starts
  int64_t candidates = 0;         // promoters scored this round (all starts)
  double seconds = 0;             // wall time of the round
  double mean_score = 0, best_score = 0, worst_score = 0;  // of the starts' best designs
  double mean_prediction = 0;                              // ensemble mean of those designs, averaged
};

// The best design of `start` after round `round`.
using DesignSink = std::function<void(const Start& start, int64_t round, const Scored& best)>;
using RoundSink = std::function<void(const RoundReport&)>;

// Runs options.rounds rounds from every start. After round 0 (the starts
// themselves) and after each round, calls `design` once per start, in start
// order, then `report`. Throws pf::Error when a start's promoter is longer
// than the models read or has no mutable position.
void run_design(const Ensemble& models, const std::vector<Start>& starts, const SearchOptions& options,
                const DesignSink& design, const RoundSink& report);

// The substitutions that turn `from` into `to` (same length), 1-based:
// "12A>G,40C>T", or "-" when they are equal.
std::string describe_edits(const std::string& from, const std::string& to);

// Positions where `a` and `b` (same length) differ.
int64_t count_edits(const std::string& a, const std::string& b);

}  // namespace pf::proformer::design
