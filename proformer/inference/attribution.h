// Attributions: which bases of a promoter drive its prediction. Four methods,
// each an L x 4 map of hypothetical scores (one per position and base, on the
// training label scale) for a promoter of L nt, plasmid flanks removed:
//
//   saliency               the gradient of the prediction with respect to the
//                          one-hot promoter, mean-centred per position
//   input-x-gradient       the same, kept only at the promoter's own bases
//   integrated-gradients   gradients averaged along the straight path from a
//                          baseline to the promoter (steps midpoints), with a
//                          uniform 0.25 baseline or k dinucleotide-shuffled ones
//   ism                    in-silico mutagenesis (ism.h), mean-centred per position
//
// The projected score of a position is the score of its own base (one-hot x
// scores); TF-MoDISco takes both (attribution_output.h writes them as npz).
//
// The gradient, strands folded. The model reads a promoter of L nt as one
// [S, vocab] one-hot input, S = 2 * seq_len (sequence.h): the forward strand
// with the promoter at tokens p = pad + i (pad = floor((seq_len - L) / 2)),
// then the reverse complement, where promoter base b at position i sits at
// token S - 1 - p as base 3 - b (A<->T, C<->G). A relaxed promoter x [L, 4]
// (any floats in the A, C, G, T channels; the N padding kept as it is) fills
// both places, so by the chain rule
//
//   df/dx[i][b] = dF/dX[p][b] + dF/dX[S - 1 - p][3 - b]
//
// with F the model on its input X. Those gradients come from the training
// forward and backward (Proformer::forward_one_hot) in eval mode, no dropout,
// the parameters frozen so that only the input gets a gradient.
//
// Mean-centring. Only moves within the simplex of one-hot bases mean anything,
// so each position's gradient is mean-centred over the four bases (gReLU's
// correction): g_c[i][b] = g[i][b] - mean_b' g[i][b'].
//
// Integrated gradients with hypothetical scores. For a baseline x0 and the
// path-averaged, mean-centred gradient g_c, the score of base b at position i
// is g_c[i][b] - x0[i] . g_c[i] (what IG would give had the promoter base b
// there), averaged over the baselines. At the promoter's own bases these sum
// to sum (x - x0) . g, so the projected scores add up to f(x) - mean f(x0)
// (completeness, up to the Riemann sum's error). For the uniform baseline
// x0[i] . g_c[i] = 0 and the scores are g_c itself. Promoter N positions keep
// N in every baseline, and get no projected score (their one-hot is 0).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proformer/checkpoint.h"
#include "proformer/inference/batcher.h"
#include "proformer/inference/ensemble.h"
#include "proformer/inference/inference.h"

namespace pf::proformer {

enum class AttributionMethod { kSaliency, kInputXGradient, kIntegratedGradients, kIsm };
enum class IgBaseline { kUniform, kShuffled };

// "saliency", "input-x-gradient", "integrated-gradients" or "ism"; anything
// else throws pf::Error listing them.
AttributionMethod attribution_method_from_name(const std::string& name);
// "uniform" or "shuffled"; anything else throws pf::Error listing them.
IgBaseline ig_baseline_from_name(const std::string& name);

struct AttributionOptions {
  AttributionMethod method = AttributionMethod::kSaliency;
  int ig_steps = 32;                       // integrated gradients: path points per baseline (>= 1)
  IgBaseline baseline = IgBaseline::kUniform;
  int shuffles = 10;                       // shuffled baseline: references per promoter (>= 1)
  uint64_t seed = 1;                       // shuffled baseline: the shuffles of record k use seed + k
  int64_t batch_size = kDefaultBatchSize;  // model rows per forward and backward pass
};

// For an ensemble, prediction and scores are the members' means.
struct Attribution {
  std::string id;
  std::string sequence;    // as read
  std::string bases;       // the promoter with the plasmid flanks removed, upper case (L nt)
  double prediction = 0;   // training label scale
  std::vector<std::array<float, 4>> scores;  // [L][A C G T] hypothetical scores, training label scale
  MemberSpread spread = {};                         // of the prediction over the members (n 1 for one model)
  std::vector<std::array<float, 4>> score_sd = {};  // [L][A C G T] over the members; empty for one model
  // The score of the promoter's own base at position i (0 at an N).
  float projected(size_t i) const;
};

// One promoter as the model reads it, with its bases relaxed.
struct RelaxedPromoter {
  std::vector<uint8_t> tokens;  // [S] encode_promoter of the flank-free promoter
  int length = 0;               // L
  std::vector<double> x;        // [L * 4] row i: the A, C, G, T channels of position i (both strands)
};

// The promoter's own one-hot: x = 1 at its base, 0 elsewhere (all 0 at an N).
RelaxedPromoter relaxed_promoter(std::string_view trimmed, int seq_len);

// Predictions (training label scale) of a batch of relaxed promoters in one
// forward pass of the model's dtype and device, and with `gradients` their
// gradients df/dx ([L * 4] each, strands folded, not centred) from one
// backward pass. Without `gradients` no graph is recorded.
std::vector<double> relaxed_predictions(const LoadedModel& model, const std::vector<RelaxedPromoter>& batch,
                                        std::vector<std::vector<double>>* gradients = nullptr);

// A dinucleotide shuffle of `bases` (A C G T; N stay where they are and the
// shuffle runs over the rest): same first base, same dinucleotide counts.
// The Eulerian walk of Altschul and Erickson as in DeepLIFT's dinuc_shuffle:
// each base's successors are permuted except its last, which keeps the walk
// complete.
std::string dinucleotide_shuffle(std::string_view bases, std::mt19937_64& rng);

// The integrated-gradients baselines of `promoter` (its flank-free bases
// `bases`): one of 0.25 at every non-N position, or options.shuffles
// dinucleotide shuffles drawn from seed + index.
std::vector<RelaxedPromoter> ig_baselines(const RelaxedPromoter& promoter, std::string_view bases,
                                          const AttributionOptions& options, int64_t index);

// Attributions of a group of promoters (flanks optional; each must pass
// unpredictable_reason), options.batch_size model rows per pass. `index0` is
// the number of promoters before this group (shuffled baselines are seeded
// by seed + index), so that grouping does not change the result.
std::vector<Attribution> attribute(const LoadedModel& model, const std::vector<SequenceRecord>& records,
                                   const AttributionOptions& options, int64_t index0);

// The members' attributions of one promoter ([M], same record and options)
// as one: mean prediction and scores, and their standard deviations.
Attribution average_members(const std::vector<Attribution>& per_member);

// Attributions of `records` by every member of `models`, averaged
// (average_members); index0 as in attribute().
std::vector<Attribution> attribute_ensemble(const Ensemble& models, const std::vector<SequenceRecord>& records,
                                            const AttributionOptions& options, int64_t index0);

// Attributions of many promoters: add() each, then finish(); they are made in
// groups of options.batch_size promoters (attribute_ensemble, each group's
// index0 the promoters before it) and handed to `sink` in the order added,
// so memory stays flat in the number of promoters.
class Attributor {
 public:
  Attributor(const Ensemble& models, AttributionOptions options, std::function<void(const Attribution&)> sink);
  void add(const SequenceRecord& record);
  // Attributes the promoters still waiting.
  void finish();

 private:
  const Ensemble& models_;
  AttributionOptions options_;
  std::function<void(const Attribution&)> sink_;
  std::vector<SequenceRecord> group_;
  int64_t done_ = 0;  // promoters attributed so far
};

// Attributions of every valid record of the inputs by every member of
// `models` (averaged by average_members), in groups of
// options.batch_size promoters, handed to `sink` in input order, so memory
// stays flat in the number of records. Invalid records as in
// for_each_valid_record. Returns the number of records skipped.
int64_t run_attributions(const Ensemble& models, const std::vector<std::string>& inputs,
                         const InferenceOptions& input_options, const AttributionOptions& options,
                         const std::function<void(const Attribution&)>& sink);

}  // namespace pf::proformer
