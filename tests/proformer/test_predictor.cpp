// The in-memory API (proformer/api/predictor.h) against the file-driven path
// the apps take: the same numbers and the same number of forward passes
// through the one batcher; its settings (batch size, interrupt check) and its
// errors in the library's own words.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "proformer/api/predictor.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/predict.h"
#include "tiny_checkpoint.h"

using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

const std::vector<std::string> kPromoters = {"ACGTTGCAACGGATCCATGA", "TTTTTAAAAACCCGGGTACA", "GGGATCCATGCANTTGCA",
                                             "CCCCGGGGAAAATTTTACGTACGTAAA", "ATATATATCGCG"};

struct Fixture {
  TempDir dir{"pf_test_predictor"};
  std::string checkpoint = save_tiny_checkpoint(dir.file("tiny"), 3, {10.0, 2.0});

  Predictor predictor(int64_t batch_size, std::function<void()> interrupt = {}) {
    RunSettings settings;
    settings.threads = 1;
    settings.batch_size = batch_size;
    settings.interrupt_check = std::move(interrupt);
    return Predictor({checkpoint}, std::move(settings));
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "predictor: in-memory predictions equal the file path's, pass for pass") {
  std::ostringstream fasta;
  for (size_t k = 0; k < kPromoters.size(); ++k) fasta << ">" << k << "\n" << kPromoters[k] << "\n";
  write_text(dir.file("in.fa"), fasta.str());
  const Predictor model = predictor(2);
  int64_t before = forward_passes();
  std::vector<double> from_file;
  model.predict_files({dir.file("in.fa")}, {}, [&](const Prediction& p) { from_file.push_back(p.value); });
  const int64_t file_passes = forward_passes() - before;
  before = forward_passes();
  const EnsemblePredictions in_memory = model.predict(kPromoters);
  CHECK(forward_passes() - before == file_passes);
  CHECK(file_passes == 3);  // 5 rows in batches of 2
  REQUIRE(in_memory.rows == int64_t(kPromoters.size()));
  for (size_t k = 0; k < kPromoters.size(); ++k) CHECK(in_memory.spread[k].mean == from_file[k]);
}

TEST_CASE_FIXTURE(Fixture, "predictor: tokens and one-hot give the predictions of the text") {
  const Predictor model = predictor(3);
  const std::vector<std::string> same_length = {kPromoters[0], kPromoters[1]};  // 20 nt each
  std::vector<uint8_t> tokens;           // [2, 20]
  std::vector<float> one_hot(2 * 4 * 24, 0.0f);  // [2, 4, 24]: 4 trailing zero columns of padding
  for (size_t k = 0; k < 2; ++k)
    for (size_t i = 0; i < 20; ++i) {
      const int t = token_of(same_length[k][i]);
      tokens.push_back(uint8_t(t));
      one_hot[(k * 4 + size_t(t)) * 24 + i] = 1.0f;
    }
  const EnsemblePredictions text = model.predict(same_length);
  CHECK(model.predict_tokens(tokens.data(), 2, 20).values == text.values);
  CHECK(model.predict_one_hot(one_hot.data(), 2, 24).values == text.values);
  one_hot[3] = 0.5f;  // sequence 0, channel A, column 3
  CHECK(contains(error_of([&] { model.predict_one_hot(one_hot.data(), 2, 24); }),
                 "predict_one_hot: sequence 0, column 3"));
  tokens[5] = 9;
  CHECK(contains(error_of([&] { model.predict_tokens(tokens.data(), 2, 20); }), "sequence 0, position 5: token 9"));
}

TEST_CASE_FIXTURE(Fixture, "predictor: results do not change with the batch size") {
  const Predictor one = predictor(1), many = predictor(64);
  CHECK(one.predict(kPromoters).values == many.predict(kPromoters).values);
  std::vector<SequenceRecord> records;
  for (size_t k = 0; k < kPromoters.size(); ++k) records.push_back({std::to_string(k), kPromoters[k], 0});
  const std::vector<IsmResult> a = one.ism(records), b = many.ism(records);
  REQUIRE(a.size() == kPromoters.size());
  for (size_t k = 0; k < a.size(); ++k) CHECK(a[k].effects == b[k].effects);
  // ISM of several promoters at once equals ISM of each alone.
  CHECK(a[2].effects == in_silico_mutagenesis(one.models(), "2", kPromoters[2], 7).effects);
}

TEST_CASE_FIXTURE(Fixture, "predictor: the interrupt check runs before every forward pass and stops the call") {
  int checks = 0;
  const Predictor model = predictor(1, [&] {
    if (++checks == 3) throw Error("interrupted");
  });
  CHECK(error_of([&] { model.predict(kPromoters); }) == "interrupted");
  CHECK(checks == 3);  // stopped at the third batch, not after the fifth
}

TEST_CASE_FIXTURE(Fixture, "predictor: substitution effects equal the spelled-out variant pairs") {
  const Predictor model = predictor(4);
  const std::vector<VariantEffect> subs = model.substitution_effects(kPromoters, {{0, 3, kA}, {2, 12, kG}});
  std::string alt0 = kPromoters[0], alt2 = kPromoters[2];
  alt0[3] = 'A';
  alt2[12] = 'G';
  const std::vector<VariantEffect> pairs = model.variant_effects({{"a", kPromoters[0], alt0}, {"b", kPromoters[2], alt2}});
  REQUIRE(subs.size() == 2);
  CHECK(subs[0].effect() == pairs[0].effect());
  CHECK(subs[1].effect() == pairs[1].effect());
  CHECK(subs[1].id == "2:12:G");
  CHECK(contains(error_of([&] { model.substitution_effects(kPromoters, {{1, 20, kA}}); }),
                 "substitution_effects: position 20 of sequence 1 (expected 0 to 19"));
  CHECK(contains(error_of([&] { model.substitution_effects(kPromoters, {{7, 0, kA}}); }), "sequence index 7"));
}

TEST_CASE_FIXTURE(Fixture, "predictor: bad settings and inputs are refused in the library's words") {
  RunSettings settings;
  settings.batch_size = 0;
  CHECK(contains(error_of([&] { Predictor({checkpoint}, settings); }), "batch_size must be >= 1, got 0"));
  settings = {};
  settings.dtype = DType::f64;
  CHECK(contains(error_of([&] { Predictor({checkpoint}, settings); }), "dtype must be f32, bf16 or f16"));
  const Predictor model = predictor(8);
  const std::string error = error_of([&] { model.predict({"ACGT", "ACXT"}); });
  CHECK(contains(error, "predict: sequence 1: invalid character 'X' at position 3"));
  CHECK_FALSE(contains(error, "--"));
}
