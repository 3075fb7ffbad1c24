// The library's front door: a trained model (or an ensemble of them) with its
// run settings, and every prediction mode on in-memory data. pf-infer,
// pf-design and the Python module (python/) are thin shells over it: they turn
// their arguments into RunSettings and inputs, call one method, and report.
//
//   Predictor model({"runs/demo/best"}, {.threads = 2});
//   EnsemblePredictions p = model.predict({"ACGT...", "TTGA..."});   // p.spread[i].mean
//   std::vector<IsmResult> ism = model.ism({{"a", "ACGT..."}});
//
// The settings are applied in one place (Call, in predictor.cpp) at the start
// of every method, on the calling thread: its OpenMP and Eigen thread count,
// mixed precision (an autocast guard of settings.dtype) and the interrupt
// check that runs before every forward pass (a notebook's Ctrl-C stops a call
// within one batch). One Predictor runs one call at a time; calls from other
// threads wait for it, so their results are the same bits as calls in turn.
//
// Every result of an ensemble carries the members' mean, sd, n and sign
// agreement (MemberSpread); a single model is an ensemble of one.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "proformer/data/reader.h"
#include "proformer/design/search.h"
#include "proformer/genome/genome.h"
#include "proformer/genome/vcf.h"
#include "proformer/inference/attribution.h"
#include "proformer/inference/batcher.h"
#include "proformer/inference/ensemble.h"
#include "proformer/inference/genome_regions.h"
#include "proformer/inference/genome_variants.h"
#include "proformer/inference/inference.h"
#include "proformer/inference/ism.h"
#include "proformer/inference/variants.h"

namespace pf::proformer {

struct RunSettings {
  Device device = Device::cpu();
  DType dtype = DType::f32;  // f32, or bf16 / f16: mixed precision (autocast), the f32 weights cast once per call
  int threads = 0;           // CPU threads of this predictor's calls; 0: OMP_NUM_THREADS or default_cpu_threads()
  int64_t batch_size = kDefaultBatchSize;  // model rows per forward pass, in every mode
  // Runs before every forward pass on the calling thread; throws to stop the call.
  std::function<void()> interrupt_check;
};

// Throws pf::Error naming the field for a dtype other than f32/bf16/f16, a
// negative thread count or a batch size below 1.
void check_run_settings(const RunSettings& settings);

// A single-nucleotide substitution of one of a list of sequences.
struct Substitution {
  int64_t sequence = 0;  // index into the list
  int64_t position = 0;  // 0-based in the promoter with the plasmid flanks removed
  int base = 0;          // kA..kT (0..3)
};

class Predictor {
 public:
  // Loads the checkpoints (several: an ensemble, see Ensemble) onto settings.device.
  Predictor(const std::vector<std::string>& checkpoints, RunSettings settings = {});

  const Ensemble& models() const { return models_; }
  int64_t seq_len() const { return models_.seq_len(); }
  const RunSettings& settings() const { return settings_; }

  // ---- predictions, training label scale ----
  // Promoters as text (plasmid flanks optional). Throws pf::Error naming the
  // index of a sequence unpredictable_reason refuses.
  EnsemblePredictions predict(const std::vector<std::string>& sequences) const;
  // tokens [n, length] of kA..kN (0..4), each row a promoter of `length` nt.
  EnsemblePredictions predict_tokens(const uint8_t* tokens, int64_t n, int64_t length) const;
  // one_hot [n, 4, length], channels A C G T: a column with one 1 is that
  // base, an all-zero column an N; trailing all-zero columns are padding (the
  // layout of ohe.npz, where shorter promoters start at column 0).
  EnsemblePredictions predict_one_hot(const float* one_hot, int64_t n, int64_t length) const;
  // Every record of the inputs (files, "-" stdin), to `sink` in order.
  InferenceStats predict_files(const std::vector<std::string>& inputs, const InferenceOptions& options,
                               const std::function<void(const Prediction&)>& sink) const;

  // ---- in-silico mutagenesis ----
  std::vector<IsmResult> ism(const std::vector<SequenceRecord>& records) const;
  // Returns the number of invalid records skipped (options.skip_invalid).
  int64_t ism_files(const std::vector<std::string>& inputs, const InferenceOptions& options,
                    const std::function<void(const IsmResult&)>& sink) const;

  // ---- attributions (options.batch_size is taken from the settings) ----
  std::vector<Attribution> attribute(const std::vector<SequenceRecord>& records, AttributionOptions options) const;
  int64_t attribute_files(const std::vector<std::string>& inputs, const InferenceOptions& input_options,
                          AttributionOptions options, const std::function<void(const Attribution&)>& sink) const;

  // ---- variant effects ----
  std::vector<VariantEffect> variant_effects(const std::vector<Pair>& pairs) const;
  // Each substitution's effect on its sequence (ids "SEQUENCE:POSITION:BASE",
  // 0-based). Throws pf::Error for an index, position or base out of range.
  std::vector<VariantEffect> substitution_effects(const std::vector<std::string>& sequences,
                                                  const std::vector<Substitution>& substitutions) const;
  // The pairs of a variants file (variants.h). Returns their number.
  int64_t variant_effects_file(const std::string& path, const std::function<void(const VariantEffect&)>& sink) const;

  // ---- a genome's promoters and the variants in them ----
  void predict_regions(const std::vector<GenomeRegion>& regions,
                       const std::function<void(const RegionPrediction&)>& sink) const;
  GenomeVariantStats score_vcf(const Genome& genome, const std::vector<GenomeRegion>& regions, VcfReader& vcf,
                               GenomeVariantOptions options,
                               const std::function<void(const RegionVariantEffect&)>& sink,
                               const std::function<void(const SkippedVariant&)>& skip) const;

  // ---- design (options.batch_size is taken from the settings) ----
  void design(const std::vector<design::Start>& starts, design::SearchOptions options,
              const design::DesignSink& on_design, const design::RoundSink& on_round) const;

 private:
  class Call;  // the settings applied to the calling thread for one call
  Ensemble models_;
  RunSettings settings_;
  mutable std::mutex busy_;  // one call at a time
};

}  // namespace pf::proformer
