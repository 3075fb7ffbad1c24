// Design a promoter from C++: five rounds of greedy search from a random
// start towards higher predicted expression, with the GC content kept in
// [0.35, 0.55], no run of one base longer than 6 and the BsaI site GGTCTC
// absent from both strands. Prints the best design of every round.
//
// Usage: example_design_promoter CHECKPOINT [CHECKPOINT ...] (several: an ensemble)
#include <cstdio>
#include <string>
#include <vector>

#include "proformer/design/search.h"     // run_design, SearchOptions, Scored
#include "proformer/design/starts.h"     // random_starts
#include "proformer/inference/ensemble.h"  // Ensemble

using namespace pf::proformer;
using namespace pf::proformer::design;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CHECKPOINT [CHECKPOINT ...]\n", argv[0]);
    return 2;
  }
  const Ensemble models(std::vector<std::string>(argv + 1, argv + argc));

  SearchOptions options;  // greedy by default
  options.rounds = 5;
  options.seed = 1;
  options.objective = parse_objective("max", /*penalty_sd=*/1.0);  // mean - 1 x sd over the members
  options.constraints.gc_min = 0.35;
  options.constraints.gc_max = 0.55;
  options.constraints.max_homopolymer = 6;
  options.constraints.avoid = {"GGTCTC"};
  const std::vector<Start> starts = random_starts(1, 80, options.constraints, options.seed);

  double first = 0, last = 0;
  run_design(
      models, starts, options,
      [&](const Start& start, int64_t round, const Scored& best) {
        std::printf("round %ld  %s  mean %.4f  sd %.4f  edits %s\n", long(round), best.promoter.c_str(), best.mean,
                    best.sd, describe_edits(start.promoter, best.promoter).c_str());
        (round == 0 ? first : last) = best.score;
      },
      [](const RoundReport&) {});
  std::printf("score %.4f -> %.4f\n", first, last);
  return last >= first ? 0 : 1;
}
