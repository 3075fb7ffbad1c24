// pf-design's output: one TSV row per start and round, the best design of
// that start after that round (round 0: the start itself).
//
//   # model_1 = runs/a/best                 one comment line per member
//   start_id  round  sequence  n_edits  edits  model_1 ... model_M  mean  sd  score
//
// sequence carries the plasmid flanks the start was given with; edits lists
// the substitutions against the start, 1-based in the promoter with the flanks
// removed ("12A>G,40C>T", "-" for none); model_m is member m's prediction,
// mean and sd those over the members (training label scale), score the
// objective (objective.h). Numbers have 9 significant digits, enough to
// carry every bit of an f32 prediction.
#pragma once
#include <string>

#include "proformer/design/search.h"
#include "proformer/inference/ensemble.h"

namespace pf::proformer::design {

std::string design_tsv_header(const Ensemble& models);

std::string design_tsv_row(const Start& start, int64_t round, const Scored& design);

}  // namespace pf::proformer::design
