// Tests of variant effects and in-silico mutagenesis on a tiny checkpoint: the
// batched, token-substituting code against the naive way (every sequence
// encoded from its string and predicted alone), both variant file layouts,
// and the FILE:LINE errors of bad variant files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "reports/tsv.h"
#include "proformer/inference/ism.h"
#include "proformer/inference/predict.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/variants.h"
#include "tiny_checkpoint.h"

using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

// A promoter with the plasmid flanks, 20 nt inside them, one of them a lower-case n.
const std::string kPromoter = "ACGTTGCAnACGGATCCATG";
const std::string kSequence = std::string(kFlank5) + kPromoter + std::string(kFlank3);

// The naive prediction: `sequence` encoded from its string, predicted alone,
// on the training label scale.
double predict_alone(const LoadedModel& model, const std::string& sequence) {
  const int seq_len = int(model.model->config().seq_len);
  std::vector<uint8_t> tokens(size_t(2 * seq_len));
  encode_promoter(strip_flanks(sequence), seq_len, tokens.data());
  return model.state.label_stats.unzscore(predict_encoded(*model.model, tokens.data(), 1, 1)[0]);
}

}  // namespace

TEST_CASE("ism: substitute_base equals encoding the mutated string") {
  for (int seq_len : {10, 11}) {
    for (const std::string promoter : {"ACG", "ACGTNA", "TTGCAAGCTA"}) {
      const int L = int(promoter.size());
      std::vector<uint8_t> reference(size_t(2 * seq_len));
      encode_promoter(promoter, seq_len, reference.data());
      for (int i = 0; i < L; ++i)
        for (char base : std::string("ACGTN")) {
          std::string mutant = promoter;
          mutant[size_t(i)] = base;
          std::vector<uint8_t> expected(reference.size()), substituted = reference;
          encode_promoter(mutant, seq_len, expected.data());
          substitute_base(substituted.data(), seq_len, L, i, uint8_t(token_of(base)));
          CHECK_MESSAGE(substituted == expected, "seq_len ", seq_len, ", ", promoter, " position ", i, " -> ", base);
        }
    }
  }
  std::vector<uint8_t> tokens(20);
  encode_promoter("ACG", 10, tokens.data());
  CHECK(contains(error_of([&] { substitute_base(tokens.data(), 10, 3, 3, kA); }), "position 3"));
  CHECK(contains(error_of([&] { substitute_base(tokens.data(), 10, 3, 0, kMask); }), "not a nucleotide"));
}

TEST_CASE("ism: batched mutagenesis equals one naive prediction per mutant string") {
  TempDir dir;
  const LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 3, {5.0, 2.0}));
  // Batches of 7 rows: 62 predictions (3 x 19 substitutions, 4 at the N, and
  // the reference) make 8 full batches and a partial one.
  const IsmResult result = in_silico_mutagenesis(model, "s1", kSequence, 7);
  CHECK(result.id == "s1");
  CHECK(result.bases == "ACGTTGCANACGGATCCATG");
  REQUIRE(result.effects.size() == kPromoter.size());

  const double reference = predict_alone(model, kSequence);
  CHECK(std::abs(result.reference - reference) <= 1e-6);
  double largest = 0;
  for (size_t i = 0; i < kPromoter.size(); ++i)
    for (size_t b = 0; b < 4; ++b) {
      const double effect = result.effects[i][b];
      if (kBases[b] == result.bases[i]) {
        CHECK(effect == 0);  // the reference base itself
        continue;
      }
      std::string mutant = kSequence;
      mutant[kFlank5.size() + i] = kBases[b];
      const double expected = predict_alone(model, mutant) - reference;
      CHECK_MESSAGE(std::abs(effect - expected) <= 1e-6, "position ", i + 1, " -> ", kBases[b], ": ", effect,
                    " vs naive ", expected);
      largest = std::max(largest, std::abs(effect));
    }
  CHECK(largest > 1e-4);  // the substitutions do change the prediction

  // The TSV: two comment lines and the column header, then one row per position.
  CHECK(contains(ism_tsv_header(1), "flanks removed"));
  CHECK(contains(ism_tsv_header(1), "id\tposition\tref_base\tA\tC\tG\tT\n"));
  const std::string rows = ism_tsv_rows(result);
  CHECK(std::count(rows.begin(), rows.end(), '\n') == long(kPromoter.size()));
  CHECK(rows.rfind("s1\t1\tA\t0\t", 0) == 0);
  CHECK(contains(rows, "\ns1\t9\tN\t"));
}

TEST_CASE("variants: both column layouts give the naive predictions") {
  TempDir dir;
  const LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 4, {5.0, 2.0}));
  // Three pairs: a substitution inside the flanked sequence (position 17 + 5
  // counts the 17-nt 5' flank), one in a flank-free sequence, and a reference
  // base "substituted" by itself (no effect).
  const std::string flanked_alt = std::string(kFlank5) + "ACGTAGCAnACGGATCCATG" + std::string(kFlank3);
  const std::string plain = "TTTTACGCATGCGGGA", plain_alt = "TTTTACGCATGCGGGC";
  write_text(dir.file("sequences.tsv"), "id\tref_seq\talt_seq\n"
                                        "flanked\t" + kSequence + "\t" + flanked_alt + "\n"
                                        "\n"
                                        "plain\t" + plain + "\t" + plain_alt + "\n"
                                        "same\t" + plain + "\t" + plain + "\n");
  write_text(dir.file("positions.tsv"), "flanked\t" + kSequence + "\t22\tA\n"
                                        "plain\t" + plain + "\t16\tc\n"
                                        "same\t" + plain + "\t1\tT\n");
  write_text(dir.file("positions_header.tsv"), "id\tref_seq\tposition\talt_base\n"
                                               "flanked\t" + kSequence + "\t22\tA\n");
  const std::vector<std::string> ids = {"flanked", "plain", "same"};
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {kSequence, flanked_alt}, {plain, plain_alt}, {plain, plain}};

  for (const std::string file : {"sequences.tsv", "positions.tsv", "positions_header.tsv"}) {
    std::vector<VariantEffect> effects;
    const int64_t n =
        predict_variants(model, dir.file(file), 2, [&](const VariantEffect& e) { effects.push_back(e); });
    REQUIRE(n == int64_t(effects.size()));
    REQUIRE(n == (file == "positions_header.tsv" ? 1 : 3));
    for (size_t k = 0; k < effects.size(); ++k) {
      CAPTURE(file);
      CHECK(effects[k].id == ids[k]);
      CHECK(std::abs(effects[k].ref - predict_alone(model, pairs[k].first)) <= 1e-6);
      CHECK(std::abs(effects[k].alt - predict_alone(model, pairs[k].second)) <= 1e-6);
    }
    CHECK(effects[0].effect() != 0);
    if (n == 3) CHECK(effects[2].effect() == 0);
  }
  CHECK(variant_tsv_header(1) == "id\tref\talt\talt_minus_ref\n");
  CHECK(variant_tsv_row({"v", 1.5, 2.25}) == "v\t1.5\t2.25\t0.75\n");
}

TEST_CASE("variants: bad files give errors naming FILE:LINE and what is wrong") {
  TempDir dir;
  const LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 4, {5.0, 2.0}));
  const std::string path = dir.file("pairs.tsv");
  auto error_for = [&](const std::string& text) {
    write_text(path, text);
    return error_of([&] { predict_variants(model, path, 4, [](const VariantEffect&) {}); });
  };
  const std::string ok = "a\tACGTACGT\tACGTACGA\n";
  CHECK(contains(error_for("id\tref\talt\n"), path + ":1: header 'id, ref, alt' (expected id, ref_seq, alt_seq"));
  CHECK(contains(error_for("a\tACGT\n"), path + ":1: 2 columns (expected 3: id, ref_seq, alt_seq, or 4:"));
  CHECK(contains(error_for(ok + "b\tACGT\tACGA\t3\n"), path + ":2: 4 columns (expected 3: id, ref_seq, alt_seq)"));
  CHECK(contains(error_for(ok + "b\tACXT\tACGA\n"), path + ":2: ref_seq: invalid character 'X' at position 3"));
  CHECK(contains(error_for(ok + "b\tACGT\t" + std::string(101, 'A') + "\n"), path + ":2: alt_seq: sequence of 101 nt"));
  CHECK(contains(error_for("a\tACGT\tx\tA\n"), path + ":1: position 'x' is not an integer"));
  CHECK(contains(error_for("a\tACGT\t5\tA\n"), path + ":1: position 5 outside ref_seq (1 to 4)"));
  CHECK(contains(error_for("a\tACGT\t0\tA\n"), path + ":1: position 0 outside ref_seq"));
  CHECK(contains(error_for("a\tACGT\t2\tAC\n"), path + ":1: alt_base 'AC' (expected one of A, C, G, T, N)"));
  CHECK(contains(error_for("a\t" + kSequence + "\t3\tA\n"),
                 path + ":1: position 3 is in a plasmid flank (the promoter is positions 18 to 37 of ref_seq)"));
}
