#include "proformer/inference/attribution.h"

#include <algorithm>
#include <cctype>

#include "proformer/data/sequence.h"
#include "proformer/inference/ism.h"
#include "proformer/inference/predict.h"

namespace pf::proformer {

namespace {

// Turns off requires_grad on every parameter for its lifetime, so that
// backward computes the input's gradient and no weight gradients.
class FrozenParameters {
 public:
  explicit FrozenParameters(const nn::Module& module) : parameters_(module.parameters()) {
    for (Tensor& p : parameters_) p.set_requires_grad(false);
  }
  ~FrozenParameters() {
    for (Tensor& p : parameters_) p.set_requires_grad(true);
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<Tensor> parameters_;
};

// g[i][b] - mean_b' g[i][b'] for every position of g [L * 4], in place.
void mean_centre(std::vector<double>& g) {
  for (size_t i = 0; i < g.size(); i += 4) {
    const double mean = (g[i] + g[i + 1] + g[i + 2] + g[i + 3]) / 4;
    for (size_t b = 0; b < 4; ++b) g[i + b] -= mean;
  }
}

std::vector<std::array<float, 4>> as_scores(const std::vector<double>& g) {  // [L * 4] -> [L][4]
  std::vector<std::array<float, 4>> scores(g.size() / 4);
  for (size_t i = 0; i < scores.size(); ++i)
    for (size_t b = 0; b < 4; ++b) scores[i][b] = float(g[4 * i + b]);
  return scores;
}

// Mean-centred ISM effects as the `ism` method's scores.
void attribute_by_mutagenesis(const LoadedModel& model, const AttributionOptions& options, Attribution& a) {
  const IsmResult ism = in_silico_mutagenesis(model, a.id, a.sequence, options.batch_size);
  std::vector<double> effects;  // [L * 4]
  for (const auto& row : ism.effects) effects.insert(effects.end(), row.begin(), row.end());
  mean_centre(effects);
  a.prediction = ism.reference;
  a.scores = as_scores(effects);
}

// Path point j of `steps` (midpoints) from baseline x0 to the promoter x.
RelaxedPromoter path_point(const RelaxedPromoter& x, const RelaxedPromoter& x0, int j, int steps) {
  const double alpha = (j + 0.5) / steps;
  RelaxedPromoter point = x;
  for (size_t n = 0; n < point.x.size(); ++n) point.x[n] = x0.x[n] + alpha * (x.x[n] - x0.x[n]);
  return point;
}

}  // namespace

AttributionMethod attribution_method_from_name(const std::string& name) {
  if (name == "saliency") return AttributionMethod::kSaliency;
  if (name == "input-x-gradient") return AttributionMethod::kInputXGradient;
  if (name == "integrated-gradients") return AttributionMethod::kIntegratedGradients;
  if (name == "ism") return AttributionMethod::kIsm;
  PF_FAIL("attributions", "unknown method '", name,
          "' (expected saliency, input-x-gradient, integrated-gradients or ism)");
}

IgBaseline ig_baseline_from_name(const std::string& name) {
  if (name == "uniform") return IgBaseline::kUniform;
  if (name == "shuffled") return IgBaseline::kShuffled;
  PF_FAIL("attributions", "unknown baseline '", name, "' (expected uniform or shuffled)");
}

float Attribution::projected(size_t i) const {
  const int b = token_of(bases[i]);
  return b >= kA && b <= kT ? scores[i][size_t(b)] : 0.0f;
}

RelaxedPromoter relaxed_promoter(std::string_view trimmed, int seq_len) {
  RelaxedPromoter promoter;
  promoter.tokens.resize(size_t(2 * seq_len));
  encode_promoter(trimmed, seq_len, promoter.tokens.data());
  promoter.length = int(trimmed.size());
  promoter.x.assign(trimmed.size() * 4, 0.0);
  for (size_t i = 0; i < trimmed.size(); ++i)
    if (const int b = token_of(trimmed[i]); b <= kT) promoter.x[4 * i + size_t(b)] = 1.0;
  return promoter;
}

std::vector<double> relaxed_predictions(const LoadedModel& loaded, const std::vector<RelaxedPromoter>& batch,
                                        std::vector<std::vector<double>>* gradients) {
  const Proformer& model = *loaded.model;
  PF_CHECK(!model.is_training(), "attributions", "the model is in train mode (HINT: call eval() first)");
  before_forward_pass();
  const int64_t B = int64_t(batch.size()), seq_len = model.config().seq_len, S = 2 * seq_len,
                V = model.config().vocab;
  // The model's input: the tokens one-hot, then each promoter position's
  // A C G T channels set to x on both strands (header: the folded gradient).
  std::vector<double> input(size_t(B * S * V), 0.0);  // [B, S, vocab]
  for (int64_t r = 0; r < B; ++r) {
    const RelaxedPromoter& promoter = batch[size_t(r)];
    double* row = input.data() + r * S * V;
    for (int64_t t = 0; t < S; ++t) row[t * V + promoter.tokens[size_t(t)]] = 1.0;
    const int64_t pad = (seq_len - promoter.length) / 2;
    for (int64_t i = 0; i < promoter.length; ++i) {
      const int64_t forward = pad + i, reverse = S - 1 - forward;
      for (int64_t b = 0; b < 4; ++b) {
        row[forward * V + b] = promoter.x[size_t(4 * i + b)];
        row[reverse * V + 3 - b] = promoter.x[size_t(4 * i + b)];
      }
    }
  }
  const Device device = model.kmer->weight.device();
  Tensor one_hot =
      ops::to(ops::to(Tensor::from_vector(input, {B, S, V}), model.kmer->weight.dtype()), device);  // [B, S, vocab]

  FrozenParameters frozen(model);
  Generator unused;
  Tensor prediction;  // [B] z-space
  if (gradients) {
    one_hot.set_requires_grad(true);
    prediction = model.forward_one_hot(one_hot, unused).prediction;
    sum(prediction).backward();  // rows are independent: d(sum)/d(row r) = d(prediction r)/d(row r)
  } else {
    NoGradGuard no_grad;
    prediction = model.forward_one_hot(one_hot, unused).prediction;
  }

  const LabelStats& stats = loaded.state.label_stats;
  std::vector<double> values = ops::to(prediction, DType::f64).to_vector<double>();
  for (double& v : values) v = v * stats.std + stats.mean;
  if (!gradients) return values;

  // Fold the strands: df/dx[i][b] = dF/dX[p][b] + dF/dX[S - 1 - p][3 - b], times
  // the label scale's std (f = z * std + mean).
  const std::vector<double> grad = ops::to(one_hot.grad(), DType::f64).to_vector<double>();  // [B, S, vocab]
  gradients->assign(size_t(B), {});
  for (int64_t r = 0; r < B; ++r) {
    const RelaxedPromoter& promoter = batch[size_t(r)];
    const double* row = grad.data() + r * S * V;
    const int64_t pad = (seq_len - promoter.length) / 2;
    std::vector<double>& g = (*gradients)[size_t(r)];
    g.resize(size_t(4 * promoter.length));
    for (int64_t i = 0; i < promoter.length; ++i) {
      const int64_t forward = pad + i, reverse = S - 1 - forward;
      for (int64_t b = 0; b < 4; ++b)
        g[size_t(4 * i + b)] = (row[forward * V + b] + row[reverse * V + 3 - b]) * stats.std;
    }
  }
  return values;
}

std::string dinucleotide_shuffle(std::string_view bases, std::mt19937_64& rng) {
  std::string letters;  // the non-N bases, shuffled as one string
  for (char c : bases)
    if (token_of(c) != kN) letters += char(std::toupper(static_cast<unsigned char>(c)));
  std::string shuffled = letters;
  if (letters.size() > 2) {
    // successors[a]: the positions that follow each occurrence of base a.
    std::array<std::vector<size_t>, 4> successors;
    for (size_t n = 0; n + 1 < letters.size(); ++n) successors[size_t(token_of(letters[n]))].push_back(n + 1);
    for (auto& next : successors)
      for (size_t n = next.empty() ? 0 : next.size() - 1; n > 1; --n)  // Fisher-Yates over all but the last
        std::swap(next[n - 1], next[size_t(rng() % n)]);
    std::array<size_t, 4> used{};
    size_t at = 0;
    for (size_t n = 1; n < letters.size(); ++n) {
      const size_t a = size_t(token_of(letters[at]));
      at = successors[a][used[a]++];
      shuffled[n] = letters[at];
    }
  }
  std::string out(bases);  // N where they were, the shuffled bases in the other places
  size_t next = 0;
  for (char& c : out)
    if (token_of(c) != kN) c = shuffled[next++];
  return out;
}

std::vector<RelaxedPromoter> ig_baselines(const RelaxedPromoter& promoter, std::string_view bases,
                                          const AttributionOptions& options, int64_t index) {
  const int seq_len = int(promoter.tokens.size() / 2);
  if (options.baseline == IgBaseline::kUniform) {
    RelaxedPromoter uniform = promoter;
    for (size_t i = 0; i < bases.size(); ++i)
      if (token_of(bases[i]) != kN) std::fill_n(uniform.x.begin() + long(4 * i), 4, 0.25);
    return {uniform};
  }
  std::mt19937_64 rng(options.seed + uint64_t(index));
  std::vector<RelaxedPromoter> references;
  for (int k = 0; k < options.shuffles; ++k) {
    RelaxedPromoter reference = relaxed_promoter(dinucleotide_shuffle(bases, rng), seq_len);
    reference.tokens = promoter.tokens;  // the N padding and N positions are the promoter's own
    references.push_back(std::move(reference));
  }
  return references;
}

std::vector<Attribution> attribute(const LoadedModel& model, const std::vector<SequenceRecord>& records,
                                   const AttributionOptions& options, int64_t index0) {
  PF_CHECK(options.batch_size > 0, "attributions", "batch size must be positive, got ", options.batch_size);
  PF_CHECK(options.ig_steps >= 1, "attributions", "ig_steps must be at least 1, got ", options.ig_steps);
  PF_CHECK(options.shuffles >= 1, "attributions", "shuffles must be at least 1, got ", options.shuffles);
  const int seq_len = int(model.model->config().seq_len);
  std::vector<Attribution> out(records.size());
  std::vector<RelaxedPromoter> promoters;
  for (size_t k = 0; k < records.size(); ++k) {
    const std::string reason = unpredictable_reason(records[k].sequence, seq_len);
    PF_CHECK(reason.empty(), "attributions", "sequence '", excerpt(records[k].id), "': ", reason);
    const std::string_view trimmed = strip_flanks(records[k].sequence);
    out[k].id = records[k].id;
    out[k].sequence = records[k].sequence;
    for (char c : trimmed) out[k].bases += char(std::toupper(static_cast<unsigned char>(c)));
    promoters.push_back(relaxed_promoter(trimmed, seq_len));
  }
  if (options.method == AttributionMethod::kIsm) {
    for (Attribution& a : out) attribute_by_mutagenesis(model, options, a);
    return out;
  }

  // The rows the model differentiates: the promoters themselves (saliency,
  // input x gradient), or `steps` path points per baseline of each promoter.
  const bool integrated = options.method == AttributionMethod::kIntegratedGradients;
  const int steps = integrated ? options.ig_steps : 1;
  std::vector<std::vector<RelaxedPromoter>> baselines(records.size());  // [promoter][baseline]
  struct Row {
    size_t promoter, baseline;
    int step;
  };
  std::vector<Row> rows;
  for (size_t k = 0; k < records.size(); ++k) {
    baselines[k] = integrated ? ig_baselines(promoters[k], out[k].bases, options, index0 + int64_t(k))
                              : std::vector<RelaxedPromoter>{};
    for (size_t r = 0; r < std::max<size_t>(1, baselines[k].size()); ++r)
      for (int j = 0; j < steps; ++j) rows.push_back({k, r, j});
  }

  // Sum of the gradients along each path [promoter][baseline][L * 4].
  std::vector<std::vector<std::vector<double>>> summed(records.size());
  for (size_t k = 0; k < records.size(); ++k)
    summed[k].assign(std::max<size_t>(1, baselines[k].size()), std::vector<double>(promoters[k].x.size(), 0.0));
  for (size_t start = 0; start < rows.size(); start += size_t(options.batch_size)) {
    const size_t end = std::min(rows.size(), start + size_t(options.batch_size));
    std::vector<RelaxedPromoter> batch;
    for (size_t n = start; n < end; ++n) {
      const Row& row = rows[n];
      batch.push_back(integrated ? path_point(promoters[row.promoter], baselines[row.promoter][row.baseline],
                                              row.step, steps)
                                 : promoters[row.promoter]);
    }
    std::vector<std::vector<double>> gradients;
    const std::vector<double> values = relaxed_predictions(model, batch, &gradients);
    for (size_t n = start; n < end; ++n) {
      std::vector<double>& sum = summed[rows[n].promoter][rows[n].baseline];
      for (size_t m = 0; m < sum.size(); ++m) sum[m] += gradients[n - start][m];
      if (!integrated) out[rows[n].promoter].prediction = values[n - start];
    }
  }
  if (integrated) {
    const std::vector<double> values = relaxed_predictions(model, promoters);
    for (size_t k = 0; k < out.size(); ++k) out[k].prediction = values[k];
  }

  // Scores from the path-averaged, mean-centred gradients (header).
  const bool times_input = options.method == AttributionMethod::kInputXGradient;
  for (size_t k = 0; k < out.size(); ++k) {
    std::vector<double> scores(promoters[k].x.size(), 0.0);  // [L * 4]
    const double paths = double(summed[k].size());
    for (size_t r = 0; r < summed[k].size(); ++r) {
      std::vector<double>& g = summed[k][r];
      for (double& v : g) v /= steps;
      mean_centre(g);
      for (size_t i = 0; i < scores.size(); i += 4) {
        double dot = 0;  // x0[i] . g_c[i]: 0 but for the shuffled baselines
        if (integrated)
          for (size_t b = 0; b < 4; ++b) dot += baselines[k][r].x[i + b] * g[i + b];
        for (size_t b = 0; b < 4; ++b)
          scores[i + b] += ((times_input ? promoters[k].x[i + b] : 1.0) * g[i + b] - dot) / paths;
      }
    }
    out[k].scores = as_scores(scores);
  }
  return out;
}

Attribution average_members(const std::vector<Attribution>& per_member) {
  PF_CHECK(!per_member.empty(), "attributions", "no member attributions");
  Attribution out = per_member.front();
  std::vector<double> values(per_member.size());  // [M] one quantity
  auto spread = [&](auto member_value) {
    for (size_t m = 0; m < per_member.size(); ++m) values[m] = member_value(per_member[m]);
    return spread_over_members(values);
  };
  out.spread = spread([](const Attribution& a) { return a.prediction; });
  if (per_member.size() == 1) return out;
  out.prediction = out.spread.mean;
  out.score_sd.assign(out.scores.size(), {0, 0, 0, 0});
  for (size_t i = 0; i < out.scores.size(); ++i)
    for (size_t b = 0; b < 4; ++b) {
      const MemberSpread score = spread([&](const Attribution& a) { return double(a.scores[i][b]); });
      out.scores[i][b] = float(score.mean);
      out.score_sd[i][b] = float(score.sd);
    }
  return out;
}

std::vector<Attribution> attribute_ensemble(const Ensemble& models, const std::vector<SequenceRecord>& records,
                                            const AttributionOptions& options, int64_t index0) {
  std::vector<std::vector<Attribution>> by_member;  // [M][records]
  for (int64_t m = 0; m < models.size(); ++m) by_member.push_back(attribute(models.member(m), records, options, index0));
  std::vector<Attribution> out;
  for (size_t k = 0; k < records.size(); ++k) {
    std::vector<Attribution> per_member;  // [M]
    for (std::vector<Attribution>& member : by_member) per_member.push_back(std::move(member[k]));
    out.push_back(average_members(per_member));
  }
  return out;
}

Attributor::Attributor(const Ensemble& models, AttributionOptions options,
                       std::function<void(const Attribution&)> sink)
    : models_(models), options_(std::move(options)), sink_(std::move(sink)) {}

void Attributor::add(const SequenceRecord& record) {
  group_.push_back(record);
  if (int64_t(group_.size()) == options_.batch_size) finish();
}

void Attributor::finish() {
  if (group_.empty()) return;
  for (const Attribution& a : attribute_ensemble(models_, group_, options_, done_)) sink_(a);
  done_ += int64_t(group_.size());
  group_.clear();
}

int64_t run_attributions(const Ensemble& models, const std::vector<std::string>& inputs,
                         const InferenceOptions& input_options, const AttributionOptions& options,
                         const std::function<void(const Attribution&)>& sink) {
  Attributor attributor(models, options, sink);
  const int64_t skipped = for_each_valid_record(inputs, input_options, models.seq_len(),
                                                [&](const SequenceRecord& record) { attributor.add(record); });
  attributor.finish();
  return skipped;
}

}  // namespace pf::proformer
