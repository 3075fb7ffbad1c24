// Variant effects: the predicted expression of a reference promoter and of a
// variant of it, and their difference alt - ref (pf-infer --variants).
//
// Input is a tab-separated file (plain, gzip or "-" for stdin) in one of two
// layouts, one pair per line:
//
//   id  ref_seq  alt_seq              the variant spelled out
//   id  ref_seq  position  alt_base   ref_seq with base `position` (1-based,
//                                     counted in ref_seq as given, flanks
//                                     included if present) replaced by alt_base
//
// An optional header line (first column "id") names the layout; without one
// the number of columns decides. Sequences may carry the plasmid flanks or not.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "proformer/inference/ensemble.h"

namespace pf::proformer {

// Predictions for one pair, on the training label scale (for an ensemble the
// members' means).
struct VariantEffect {
  std::string id;
  double ref = 0;  // prediction for the reference
  double alt = 0;  // prediction for the variant
  double effect() const { return alt - ref; }
  MemberSpread spread = {};  // of the members' effects (sd 0, n 1 for one model)
};

// A reference and a variant of it, spelled out (plasmid flanks optional).
struct Pair {
  std::string id, ref, alt;
};

// Predicts both sequences of every pair that `next` fills (false at the end)
// with every member of `models`, batch_size model rows per forward pass, and
// hands each result to `sink` in order. Returns the number of pairs. The
// sequences must pass unpredictable_reason (encode_promoter throws otherwise).
int64_t predict_pairs(const Ensemble& models, int64_t batch_size, const std::function<bool(Pair&)>& next,
                      const std::function<void(const VariantEffect&)>& sink);

// Predicts both sequences of every pair in `path` with every member of
// `models` (predict_pairs),
// and hands each result to `sink` in file order. Returns the number of pairs.
// Throws pf::Error with FILE:LINE for a wrong number of columns, an unknown
// header, a sequence the model cannot read (see unpredictable_reason), a
// position that is not an integer, outside ref_seq or inside a plasmid flank,
// or an alt_base other than one of A, C, G, T, N.
int64_t predict_variants(const Ensemble& models, const std::string& path, int64_t batch_size,
                         const std::function<void(const VariantEffect&)>& sink);

}  // namespace pf::proformer
