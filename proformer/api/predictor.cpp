#include "proformer/api/predictor.h"

#include <utility>

#include "autograd/autocast.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/batcher.h"
#include "proformer/inference/predict.h"
#include "proformer/threads.h"

namespace pf::proformer {

// The settings applied to the calling thread for one call, and the lock that
// makes calls from several threads take turns.
class Predictor::Call {
 public:
  explicit Call(const Predictor& p)
      : lock_(p.busy_), autocast_(p.settings_.dtype), interrupt_(p.settings_.interrupt_check) {
    set_cpu_threads(p.settings_.threads);
  }

 private:
  std::lock_guard<std::mutex> lock_;
  autocast::AutocastGuard autocast_;
  InterruptCheck interrupt_;
};

void check_run_settings(const RunSettings& settings) {
  PF_CHECK(settings.dtype == DType::f32 || is_half(settings.dtype), "Predictor",
           "dtype must be f32, bf16 or f16, got ", settings.dtype);
  PF_CHECK(settings.threads >= 0, "Predictor", "threads must be >= 0 (0: the cores it may use), got ", settings.threads);
  PF_CHECK(settings.batch_size >= 1, "Predictor", "batch_size must be >= 1, got ", settings.batch_size);
}

Predictor::Predictor(const std::vector<std::string>& checkpoints, RunSettings settings)
    : models_((check_run_settings(settings), checkpoints)), settings_(std::move(settings)) {
  models_.to(settings_.device);
}

namespace {

// Predictions of n flank-free promoters, `promoter(i)` the bases of row i,
// with the members' values [M, n] and spread [n].
EnsemblePredictions predict_promoters(const Ensemble& models, int64_t batch_size, int64_t n, const char* op,
                                      const std::function<std::string(int64_t)>& promoter) {
  EnsemblePredictions out;
  out.members = models.size();
  out.rows = n;
  out.values.resize(size_t(out.members * n));
  int64_t done = 0;
  Batcher<int64_t> batcher(models, batch_size, [&](const PredictedBatch<int64_t>& batch) {
    const EnsemblePredictions& p = batch.predictions;
    for (int64_t m = 0; m < p.members; ++m)
      for (int64_t r = 0; r < p.rows; ++r) out.values[size_t(m * n + done + r)] = p.value(m, r);
    out.spread.insert(out.spread.end(), p.spread.begin(), p.spread.end());
    done += p.rows;
  });
  for (int64_t i = 0; i < n; ++i) {
    const std::string bases = promoter(i);
    PF_CHECK(!bases.empty() && int64_t(bases.size()) <= models.seq_len(), op, "sequence ", i, ": ",
             bases.empty() ? std::string("empty") : std::to_string(bases.size()) + " nt, longer than the model's " +
                                                        std::to_string(models.seq_len()));
    encode_promoter(bases, int(models.seq_len()), batcher.add(i));
  }
  batcher.finish();
  return out;
}

// The flank-free promoter of `sequence`, or pf::Error naming its index.
std::string_view checked_promoter(const std::string& sequence, int64_t index, int64_t seq_len, const char* op) {
  const std::string reason = unpredictable_reason(sequence, seq_len);
  PF_CHECK(reason.empty(), op, "sequence ", index, ": ", reason);
  return strip_flanks(sequence);
}

}  // namespace

EnsemblePredictions Predictor::predict(const std::vector<std::string>& sequences) const {
  Call call(*this);
  return predict_promoters(models_, settings_.batch_size, int64_t(sequences.size()), "predict", [&](int64_t i) {
    return std::string(checked_promoter(sequences[size_t(i)], i, seq_len(), "predict"));
  });
}

EnsemblePredictions Predictor::predict_tokens(const uint8_t* tokens, int64_t n, int64_t length) const {
  Call call(*this);
  return predict_promoters(models_, settings_.batch_size, n, "predict_tokens", [&](int64_t i) {
    std::string bases(size_t(length), 'N');
    for (int64_t j = 0; j < length; ++j) {
      const uint8_t t = tokens[i * length + j];
      PF_CHECK(t <= kN, "predict_tokens", "sequence ", i, ", position ", j, ": token ", int(t),
               " (expected 0-4: A, C, G, T, N)");
      bases[size_t(j)] = "ACGTN"[t];
    }
    return bases;
  });
}

EnsemblePredictions Predictor::predict_one_hot(const float* one_hot, int64_t n, int64_t length) const {
  Call call(*this);
  return predict_promoters(models_, settings_.batch_size, n, "predict_one_hot", [&](int64_t i) {
    const float* x = one_hot + i * 4 * length;  // [4, length]
    std::string bases;
    for (int64_t j = 0; j < length; ++j) {
      int hot = -1, ones = 0, zeros = 0;
      for (int b = 0; b < 4; ++b) {
        const float v = x[b * length + j];
        if (v == 1.0f) {
          hot = b;
          ++ones;
        }
        if (v == 0.0f) ++zeros;
      }
      PF_CHECK((ones == 1 && zeros == 3) || zeros == 4, "predict_one_hot", "sequence ", i, ", column ", j,
               ": A C G T = ", x[j], " ", x[length + j], " ", x[2 * length + j], " ", x[3 * length + j],
               " (expected one 1 and three 0, or all 0 for N)");
      bases += hot < 0 ? 'N' : "ACGT"[hot];
    }
    bases.erase(bases.find_last_not_of('N') + 1);  // trailing all-zero columns are padding
    return bases;
  });
}

InferenceStats Predictor::predict_files(const std::vector<std::string>& inputs, const InferenceOptions& options,
                                        const std::function<void(const Prediction&)>& sink) const {
  Call call(*this);
  InferenceOptions run = options;
  run.batch_size = settings_.batch_size;
  return run_inference(models_, inputs, run, sink);
}

std::vector<IsmResult> Predictor::ism(const std::vector<SequenceRecord>& records) const {
  Call call(*this);
  std::vector<IsmResult> out;
  Mutagenesis ism(models_, settings_.batch_size, [&](const IsmResult& r) { out.push_back(r); });
  for (const SequenceRecord& record : records) ism.add(record.id, record.sequence);
  ism.finish();
  return out;
}

int64_t Predictor::ism_files(const std::vector<std::string>& inputs, const InferenceOptions& options,
                             const std::function<void(const IsmResult&)>& sink) const {
  Call call(*this);
  Mutagenesis ism(models_, settings_.batch_size, sink);
  const int64_t skipped = for_each_valid_record(inputs, options, seq_len(), [&](const SequenceRecord& record) {
    ism.add(record.id, record.sequence);
  });
  ism.finish();
  return skipped;
}

std::vector<Attribution> Predictor::attribute(const std::vector<SequenceRecord>& records,
                                              AttributionOptions options) const {
  Call call(*this);
  options.batch_size = settings_.batch_size;
  std::vector<Attribution> out;
  Attributor attributor(models_, options, [&](const Attribution& a) { out.push_back(a); });
  for (const SequenceRecord& record : records) attributor.add(record);
  attributor.finish();
  return out;
}

int64_t Predictor::attribute_files(const std::vector<std::string>& inputs, const InferenceOptions& input_options,
                                   AttributionOptions options,
                                   const std::function<void(const Attribution&)>& sink) const {
  Call call(*this);
  options.batch_size = settings_.batch_size;
  return run_attributions(models_, inputs, input_options, options, sink);
}

std::vector<VariantEffect> Predictor::variant_effects(const std::vector<Pair>& pairs) const {
  Call call(*this);
  for (size_t k = 0; k < pairs.size(); ++k) {
    checked_promoter(pairs[k].ref, int64_t(k), seq_len(), "variant_effects: ref");
    checked_promoter(pairs[k].alt, int64_t(k), seq_len(), "variant_effects: alt");
  }
  std::vector<VariantEffect> out;
  size_t next = 0;
  predict_pairs(
      models_, settings_.batch_size,
      [&](Pair& pair) {
        if (next == pairs.size()) return false;
        pair = pairs[next++];
        return true;
      },
      [&](const VariantEffect& e) { out.push_back(e); });
  return out;
}

std::vector<VariantEffect> Predictor::substitution_effects(const std::vector<std::string>& sequences,
                                                           const std::vector<Substitution>& substitutions) const {
  std::vector<Pair> pairs;
  for (const Substitution& s : substitutions) {
    PF_CHECK(s.sequence >= 0 && s.sequence < int64_t(sequences.size()), "substitution_effects", "sequence index ",
             s.sequence, " (expected 0 to ", int64_t(sequences.size()) - 1, ")");
    const std::string ref(checked_promoter(sequences[size_t(s.sequence)], s.sequence, seq_len(), "substitution_effects"));
    PF_CHECK(s.position >= 0 && s.position < int64_t(ref.size()), "substitution_effects", "position ", s.position,
             " of sequence ", s.sequence, " (expected 0 to ", int64_t(ref.size()) - 1, ", flanks removed)");
    PF_CHECK(s.base >= kA && s.base <= kT, "substitution_effects", "base ", s.base, " (expected 0-3: A, C, G, T)");
    std::string alt = ref;
    alt[size_t(s.position)] = "ACGT"[s.base];
    pairs.push_back({std::to_string(s.sequence) + ":" + std::to_string(s.position) + ":" + "ACGT"[s.base], ref, alt});
  }
  return variant_effects(pairs);
}

int64_t Predictor::variant_effects_file(const std::string& path,
                                        const std::function<void(const VariantEffect&)>& sink) const {
  Call call(*this);
  return predict_variants(models_, path, settings_.batch_size, sink);
}

void Predictor::predict_regions(const std::vector<GenomeRegion>& regions,
                                const std::function<void(const RegionPrediction&)>& sink) const {
  Call call(*this);
  proformer::predict_regions(models_, regions, settings_.batch_size, sink);
}

GenomeVariantStats Predictor::score_vcf(const Genome& genome, const std::vector<GenomeRegion>& regions,
                                        VcfReader& vcf, GenomeVariantOptions options,
                                        const std::function<void(const RegionVariantEffect&)>& sink,
                                        const std::function<void(const SkippedVariant&)>& skip) const {
  Call call(*this);
  options.batch_size = settings_.batch_size;
  return score_genome_variants(models_, genome, regions, vcf, options, sink, skip);
}

void Predictor::design(const std::vector<design::Start>& starts, design::SearchOptions options,
                       const design::DesignSink& on_design, const design::RoundSink& on_round) const {
  Call call(*this);
  options.batch_size = settings_.batch_size;
  design::run_design(models_, starts, options, on_design, on_round);
}

}  // namespace pf::proformer
