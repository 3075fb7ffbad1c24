// Tests of attributions (proformer/inference/attribution.h) on the tiny
// checkpoint: the folded gradient against central finite differences in f64,
// integrated gradients' completeness, the ism method against --ism, the
// dinucleotide shuffle, the TF-MoDISco files read back, the logo, and
// pf-infer --attributions end to end.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "nn/formats/npz.h"
#include "proformer/data/reader.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/attribution.h"
#include "reports/attribution_files.h"
#include "proformer/inference/ism.h"
#include "reports/logo.h"
#include "proformer/inference/predict.h"
#include "tiny_checkpoint.h"

namespace fs = std::filesystem;
using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

// The first n records of the DREAM test sequences (with their plasmid flanks).
std::vector<SequenceRecord> test_sequences(int n) {
  SequenceReader reader(PF_SOURCE_DIR "/data/test_sequences.txt.gz", InputFormat::kAuto);
  std::vector<SequenceRecord> records(static_cast<size_t>(n));
  for (SequenceRecord& record : records) REQUIRE(reader.next(record));
  return records;
}

std::vector<Attribution> attribute_with(const LoadedModel& model, const std::vector<SequenceRecord>& records,
                                        AttributionMethod method, int64_t batch_size = 8) {
  AttributionOptions options;
  options.method = method;
  options.batch_size = batch_size;
  return attribute(model, records, options, 0);
}

}  // namespace

TEST_CASE("attributions: the folded gradient equals central finite differences in f64, both strands") {
  TempDir dir;
  LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 5, {5.0, 2.0}));
  model.model->to(DType::f64);
  // 31 nt: an odd length, so the N padding is uneven (34 left, 35 right), and an N inside.
  const std::string promoter = "ACGTTGCANACGGATCCATGTTTACCCGTAA";
  const int seq_len = int(model.model->config().seq_len);
  const RelaxedPromoter x = relaxed_promoter(promoter, seq_len);

  // The relaxed input at the promoter's own one-hot is the model's usual input.
  const double own = relaxed_predictions(model, {x})[0];
  const double usual = predict_encoded(*model.model, x.tokens.data(), 1, 1)[0] * 2.0 + 5.0;
  CHECK(std::abs(own - usual) <= 1e-6 * std::abs(usual));  // predict_encoded's floats

  std::vector<std::vector<double>> gradients;
  relaxed_predictions(model, {x}, &gradients);
  REQUIRE(gradients[0].size() == promoter.size() * 4);
  // f(x + eps e_ib) and f(x - eps e_ib) for every position i and base b, in one batch.
  const double eps = 1e-6;
  std::vector<RelaxedPromoter> perturbed;
  for (size_t n = 0; n < x.x.size(); ++n)
    for (double sign : {1.0, -1.0}) {
      perturbed.push_back(x);
      perturbed.back().x[n] += sign * eps;
    }
  const std::vector<double> f = relaxed_predictions(model, perturbed);
  double largest = 0;
  for (size_t n = 0; n < x.x.size(); ++n) {
    const double numeric = (f[2 * n] - f[2 * n + 1]) / (2 * eps), analytic = gradients[0][n];
    // rtol 1e-4 as the issue asks; atol 1e-9 for f64 rounding of f (~1e-16 / eps).
    CHECK_MESSAGE(std::abs(analytic - numeric) <= 1e-4 * std::abs(numeric) + 1e-9, "position ", n / 4 + 1,
                  " base ", kBases[n % 4], ": analytic ", analytic, " numeric ", numeric);
    largest = std::max(largest, std::abs(numeric));
  }
  CHECK(largest > 1e-3);  // the gradient is not trivially zero

  // Saliency is that gradient, mean-centred per position.
  const Attribution saliency = attribute_with(model, {{"s", promoter, 1}}, AttributionMethod::kSaliency)[0];
  CHECK(std::abs(saliency.prediction - own) <= 1e-12);
  for (size_t i = 0; i < promoter.size(); ++i) {
    const double* g = &gradients[0][4 * i];
    const double mean = (g[0] + g[1] + g[2] + g[3]) / 4;
    for (size_t b = 0; b < 4; ++b) CHECK(std::abs(saliency.scores[i][b] - (g[b] - mean)) <= 1e-6 * largest);
  }
}

TEST_CASE("attributions: the fold adds the forward token's gradient and the mirrored complement's") {
  // Central differences on the model's own input [S, vocab], one token at a
  // time: df/dx[i][b] must be dF/dX[p][b] + dF/dX[S - 1 - p][3 - b], and the
  // reverse strand's share must not be zero.
  TempDir dir;
  LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 6, {0.0, 1.0}));
  model.model->to(DType::f64);
  const std::string promoter = "TTACCCGGATCAGCATTATATAAGG";  // 25 nt: padding 37 | 38
  const int seq_len = int(model.model->config().seq_len), S = 2 * seq_len, V = kVocabSize, L = int(promoter.size());
  const int pad = (seq_len - L) / 2;
  const RelaxedPromoter x = relaxed_promoter(promoter, seq_len);
  std::vector<std::vector<double>> gradients;
  relaxed_predictions(model, {x}, &gradients);

  std::vector<double> one_hot(size_t(S * V), 0.0);  // [S, vocab]
  for (int t = 0; t < S; ++t) one_hot[size_t(t * V + x.tokens[size_t(t)])] = 1.0;
  const double eps = 1e-6;
  std::vector<double> rows;  // [4 per (i, b): forward +, forward -, reverse +, reverse -][S, vocab]
  for (int i = 0; i < L; ++i)
    for (int b = 0; b < 4; ++b)
      for (int entry : {(pad + i) * V + b, (S - 1 - pad - i) * V + 3 - b})
        for (double sign : {1.0, -1.0}) {
          rows.insert(rows.end(), one_hot.begin(), one_hot.end());
          rows[rows.size() - one_hot.size() + size_t(entry)] += sign * eps;
        }
  const int64_t n = int64_t(rows.size() / one_hot.size());
  NoGradGuard no_grad;
  Generator unused;
  const std::vector<double> f =
      model.model->forward_one_hot(Tensor::from_vector(rows, {n, S, V}), unused).prediction.to_vector<double>();
  double reverse_largest = 0;
  for (int k = 0; k < L * 4; ++k) {
    const double forward = (f[size_t(4 * k)] - f[size_t(4 * k + 1)]) / (2 * eps),
                 reverse = (f[size_t(4 * k + 2)] - f[size_t(4 * k + 3)]) / (2 * eps);
    CHECK_MESSAGE(std::abs(gradients[0][size_t(k)] - (forward + reverse)) <= 1e-4 * std::abs(forward + reverse) + 1e-9,
                  "position ", k / 4 + 1, " base ", kBases[size_t(k % 4)]);
    reverse_largest = std::max(reverse_largest, std::abs(reverse));
  }
  CHECK(reverse_largest > 1e-3);
}

TEST_CASE("attributions: integrated gradients are complete within 1 % at 64 steps on 32 test sequences") {
  // Uniform baseline: 64 steps, 32 sequences. Shuffled baselines: a path from
  // one one-hot to another crosses more of the ReLUs' kinks, where the
  // midpoint rule's error falls about as 1 / steps (3-4 % at 64 steps, 1.0-1.1 %
  // at 256 on this model), so their check takes 1024 steps on 2 sequences.
  TempDir dir;
  const LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 7, {5.0, 2.0}));
  const int seq_len = int(model.model->config().seq_len);
  for (const IgBaseline baseline : {IgBaseline::kUniform, IgBaseline::kShuffled}) {
    const bool uniform = baseline == IgBaseline::kUniform;
    const std::vector<SequenceRecord> records = test_sequences(uniform ? 32 : 2);
    AttributionOptions options;
    options.method = AttributionMethod::kIntegratedGradients;
    options.ig_steps = uniform ? 64 : 1024;
    options.baseline = baseline;
    options.shuffles = 2;
    options.batch_size = 256;
    const std::vector<Attribution> result = attribute(model, records, options, 0);
    for (size_t k = 0; k < records.size(); ++k) {
      const Attribution& a = result[k];
      const RelaxedPromoter x = relaxed_promoter(a.bases, seq_len);
      const std::vector<double> f_baselines = relaxed_predictions(model, ig_baselines(x, a.bases, options, int64_t(k)));
      double f_baseline = 0;
      for (double v : f_baselines) f_baseline += v / double(f_baselines.size());
      double total = 0;
      for (size_t i = 0; i < a.bases.size(); ++i) total += a.projected(i);
      const double expected = a.prediction - f_baseline;
      CHECK_MESSAGE(std::abs(total - expected) <= 0.01 * std::abs(expected), std::string(uniform ? "uniform" : "shuffled"),
                    " sequence ", k, ": sum ", total, " vs f(x) - f(baseline) ", expected);
    }
  }
}

TEST_CASE("attributions: ism is mean-centred in-silico mutagenesis, and input-x-gradient is saliency at own bases") {
  TempDir dir;
  const LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 8, {5.0, 2.0}));
  const std::vector<SequenceRecord> records = test_sequences(3);
  const std::vector<Attribution> ism = attribute_with(model, records, AttributionMethod::kIsm),
                                  saliency = attribute_with(model, records, AttributionMethod::kSaliency),
                                  ixg = attribute_with(model, records, AttributionMethod::kInputXGradient);
  for (size_t k = 0; k < records.size(); ++k) {
    const IsmResult reference = in_silico_mutagenesis(model, records[k].id, records[k].sequence, 16);
    REQUIRE(ism[k].scores.size() == reference.effects.size());
    CHECK(std::abs(ism[k].prediction - reference.reference) <= 1e-6);
    CHECK(std::abs(saliency[k].prediction - reference.reference) <= 1e-5);
    for (size_t i = 0; i < reference.effects.size(); ++i) {
      const auto& e = reference.effects[i];
      const double mean = (e[0] + e[1] + e[2] + e[3]) / 4;
      for (size_t b = 0; b < 4; ++b) {
        CHECK(std::abs(ism[k].scores[i][b] - (e[b] - mean)) <= 1e-6);
        const bool own = kBases[b] == ism[k].bases[i];
        CHECK(ixg[k].scores[i][b] == (own ? saliency[k].scores[i][b] : 0.0f));
      }
    }
  }
}

TEST_CASE("attributions: the dinucleotide shuffle keeps the first base, the dinucleotide counts and the N") {
  const std::string bases = "ACGTTGCANACGGATCCATGTTTACCCGTAAGGCTTAN";
  auto counts = [](const std::string& s) {
    std::map<std::string, int> pairs;
    std::string letters;
    for (char c : s)
      if (c != 'N') letters += c;
    for (size_t i = 0; i + 1 < letters.size(); ++i) ++pairs[letters.substr(i, 2)];
    return pairs;
  };
  std::mt19937_64 rng(3);
  int changed = 0;
  for (int k = 0; k < 20; ++k) {
    const std::string shuffled = dinucleotide_shuffle(bases, rng);
    REQUIRE(shuffled.size() == bases.size());
    CHECK(shuffled[0] == bases[0]);
    CHECK(counts(shuffled) == counts(bases));
    for (size_t i = 0; i < bases.size(); ++i) CHECK((shuffled[i] == 'N') == (bases[i] == 'N'));
    changed += shuffled != bases;
  }
  CHECK(changed >= 15);
}

TEST_CASE("attributions: results do not depend on how records are grouped into batches") {
  TempDir dir;
  const LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 9, {5.0, 2.0}));
  write_text(dir.file("in.txt"), [] {
    std::string text;
    for (const SequenceRecord& r : test_sequences(5)) text += r.sequence + "\n";
    return text;
  }());
  auto run = [&](int64_t batch_size) {
    AttributionOptions options;
    options.method = AttributionMethod::kIntegratedGradients;
    options.ig_steps = 4;
    options.baseline = IgBaseline::kShuffled;
    options.shuffles = 2;
    options.batch_size = batch_size;
    std::vector<std::vector<std::array<float, 4>>> scores;
    run_attributions(model, {dir.file("in.txt")}, {}, options, [&](const Attribution& a) { scores.push_back(a.scores); });
    return scores;
  };
  const auto whole = run(64), in_twos = run(2);
  REQUIRE(whole.size() == 5);
  for (size_t k = 0; k < whole.size(); ++k)
    for (size_t i = 0; i < whole[k].size(); ++i)
      for (size_t b = 0; b < 4; ++b) CHECK(std::abs(whole[k][i][b] - in_twos[k][i][b]) <= 1e-5);
}

TEST_CASE("attributions: ohe.npz and attr.npz are [N, 4, L] float32 with ohe * attr the TSV's projected scores") {
  TempDir dir;
  const LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 10, {5.0, 2.0}));
  const std::vector<SequenceRecord> records = {{"short", "ACGTNACG", 1}, {"long", test_sequences(1)[0].sequence, 2}};
  const std::vector<Attribution> result = attribute_with(model, records, AttributionMethod::kSaliency);
  const int64_t L = model.model->config().seq_len;
  {
    AttributionFiles files(dir.file("out"), L, 1);
    for (const Attribution& a : result) files.write(a);
    CHECK_FALSE(fs::exists(dir.file("out/ohe.npz")));
    files.commit();
  }
  const nn::NpyArray ohe = nn::read_npz(dir.file("out/ohe.npz")).at("arr_0"),
                     attr = nn::read_npz(dir.file("out/attr.npz")).at("arr_0");
  CHECK(ohe.shape == std::vector<int64_t>{2, 4, L});
  CHECK(attr.shape == std::vector<int64_t>{2, 4, L});
  const std::string tsv = read_text(dir.file("out/attributions.tsv"));
  CHECK(contains(tsv, "id\tsequence\tlength\tprediction\tprojected\n"));
  for (size_t k = 0; k < result.size(); ++k) {
    const Attribution& a = result[k];
    for (int64_t i = 0; i < L; ++i) {
      float own = 0;
      for (int64_t b = 0; b < 4; ++b) {
        const size_t at = size_t((int64_t(k) * 4 + b) * L + i);
        const bool is_base = i < int64_t(a.bases.size()) && kBases[size_t(b)] == a.bases[size_t(i)];
        CHECK(ohe.values[at] == (is_base ? 1.0f : 0.0f));
        CHECK(attr.values[at] == (i < int64_t(a.bases.size()) ? a.scores[size_t(i)][size_t(b)] : 0.0f));
        own += ohe.values[at] * attr.values[at];
      }
      if (i < int64_t(a.bases.size())) CHECK(own == a.projected(size_t(i)));
    }
    CHECK(contains(tsv, attribution_tsv_row(a)));
    CHECK(contains(attribution_tsv_row(a), a.id + "\t" + a.sequence + "\t" + std::to_string(a.bases.size()) + "\t"));
  }
  CHECK(std::count(tsv.begin(), tsv.end(), '\n') == 5);  // two comments, the header, two rows
}

TEST_CASE("attributions: the logo has one glyph per scored base, above the axis for positive scores") {
  Attribution a;
  a.id = "logo<1>";
  a.bases = "ACGTN";
  a.scores = {{1, 0, 0, 0}, {0, -0.5f, 0, 0}, {0, 0, 0.25f, 0}, {0, 0, 0, 0}, {3, 3, 3, 3}};
  const std::string svg = logo_svg(a);
  CHECK(svg.rfind("<svg ", 0) == 0);
  CHECK(contains(svg, "logo&lt;1&gt;"));
  // A, C and G scored (T's score is 0, N has none): three glyphs in their colours.
  size_t polygons = 0;
  for (size_t at = svg.find("<polygon"); at != std::string::npos; at = svg.find("<polygon", at + 1)) ++polygons;
  CHECK(polygons == 3);
  CHECK(contains(svg, base_colour(0)));
  CHECK(contains(svg, base_colour(1)));
  CHECK(contains(svg, base_colour(2)));
  CHECK_FALSE(contains(svg, base_colour(3)));
}

TEST_CASE("attributions: pf-infer --attributions writes the npz files, the TSV and the logos") {
  TempDir dir;
  const std::string checkpoint = save_tiny_checkpoint(dir.file("tiny"), 11, {5.0, 2.0});
  const std::string input = PF_SOURCE_DIR "/data/demo/examples.fa";
  const ProcessResult result =
      run_process({app_path("pf-infer"), "--checkpoint", checkpoint, "--attributions", "integrated-gradients",
                   "--ig-steps", "4", "--ig-baseline", "shuffled", "--ig-shuffles", "2", "--output", dir.file("out"),
                   "--plot", dir.file("logos"), input});
  INFO("stderr: ", result.err);
  REQUIRE(result.exit_code == 0);
  int64_t records = 0;
  SequenceReader reader(input, InputFormat::kAuto);
  for (SequenceRecord record; reader.next(record);) ++records;
  CHECK(nn::read_npz(dir.file("out/ohe.npz")).at("arr_0").shape == std::vector<int64_t>{records, 4, 100});
  CHECK(nn::read_npz(dir.file("out/attr.npz")).at("arr_0").shape == std::vector<int64_t>{records, 4, 100});
  CHECK(fs::exists(dir.file("out/attributions.tsv")));
  CHECK(contains(result.err, "attributions of " + std::to_string(records) + " sequences written to"));
  CHECK(fs::exists(dir.file("logos/promoter_without_flanks.logo.svg")));
}
