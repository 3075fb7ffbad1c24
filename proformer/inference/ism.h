// In-silico mutagenesis (ISM): the predicted effect of every single-nucleotide
// substitution of a promoter, an L x 4 matrix
//
//   effect[i][b] = prediction(promoter with base b at position i) - prediction(promoter)
//
// on the training label scale, 0 where b is the reference base. The mutants
// are not re-encoded strings: each is the encoded reference with the two
// tokens of one position changed (substitute_base), and all 3L + 1 rows go
// through the model in batches. pf-infer --ism writes the matrices as TSV
// (reports/tsv.h) and, with --plot, as heat maps (reports/plots.h).
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proformer/inference/ensemble.h"

namespace pf::proformer {

// Column order of the effects: the bases A, C, G, T (token ids kA..kT).
constexpr std::string_view kBases = "ACGT";

// For an ensemble, reference and effects are the members' means.
struct IsmResult {
  std::string id;
  std::string bases;   // the promoter with the plasmid flanks removed, upper case (L nt)
  double reference = 0;  // prediction for the unmutated promoter (training label scale)
  std::vector<std::array<double, 4>> effects;  // [L][A C G T]: prediction(mutant) - reference
  int64_t members = 1;
  std::vector<std::array<double, 4>> effect_sd = {};  // [L][A C G T] over the members (0 for one model)
};

// Scores every single-nucleotide substitution of `sequence` with every member
// of `models` (flanks optional;
// it must pass unpredictable_reason): 3 per position, 4 at an N, so 3L + 1
// predictions for a promoter without N, batch_size rows per forward pass.
// Positions are those of the promoter with the flanks removed.
IsmResult in_silico_mutagenesis(const Ensemble& models, std::string id, std::string_view sequence,
                                int64_t batch_size);

// One promoter's rows (row 0 the reference, then one per substitution, in
// (position, base) order), for the Batcher.
struct Mutants;
template <typename Item>
class Batcher;

// In-silico mutagenesis of many promoters: add() each one, then finish(); the
// results go to `sink` in the order added. The rows of several promoters
// share forward passes (Batcher), so short promoters keep the batches full
// and memory stays flat in the number of promoters. add() throws pf::Error
// naming the id for a sequence unpredictable_reason refuses.
class Mutagenesis {
 public:
  Mutagenesis(const Ensemble& models, int64_t batch_size, std::function<void(const IsmResult&)> sink);
  ~Mutagenesis();
  void add(const std::string& id, std::string_view sequence);
  void finish();

 private:
  const Ensemble& models_;
  std::unique_ptr<Batcher<Mutants>> batcher_;
};

}  // namespace pf::proformer
