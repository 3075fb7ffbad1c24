// Tests of promoter design (proformer/design/, apps/pf-design.cpp) on tiny
// checkpoints: greedy against in-silico mutagenesis, the best score never
// falling, flanks and non-mutable positions kept, every constraint held (each
// checked here by its own naive code, not by sequence_violation), the same
// bytes on 1 and 2 threads, and the reported predictions against pf-infer's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "proformer/data/sequence.h"
#include "proformer/design/constraints.h"
#include "proformer/design/search.h"
#include "proformer/design/starts.h"
#include "proformer/inference/ensemble.h"
#include "proformer/inference/inference.h"
#include "proformer/inference/ism.h"
#include "tiny_checkpoint.h"

using namespace pf;
using namespace pf::proformer;
using namespace pf::proformer::design;
using namespace pf::test;

namespace {

// One reported design.
struct Row {
  Start start;
  int64_t round = 0;
  Scored best;
};

std::vector<Row> design_rows(const Ensemble& models, const std::vector<Start>& starts, const SearchOptions& options) {
  std::vector<Row> rows;
  run_design(
      models, starts, options, [&](const Start& s, int64_t round, const Scored& best) { rows.push_back({s, round, best}); },
      [](const RoundReport&) {});
  return rows;
}

std::string tiny_models(const TempDir& dir, const std::string& name, uint64_t seed) {
  return save_tiny_checkpoint(dir.file(name), seed, {10.0, 2.0});
}

std::string naive_reverse_complement(const std::string& s) {
  std::string out;
  for (auto it = s.rbegin(); it != s.rend(); ++it) out += std::string("TGCA")[std::string("ACGT").find(*it)];
  return out;
}

int longest_run(const std::string& s) {
  int longest = 0;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j < s.size() && s[j] == s[i]) ++j;
    longest = std::max(longest, int(j - i));
    i = j;
  }
  return longest;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, sep);) out.push_back(field);
  return out;
}

// The data rows of a pf-design TSV, split into fields (comments and header dropped).
std::vector<std::vector<std::string>> tsv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : split(text, '\n'))
    if (!line.empty() && line[0] != '#' && line.rfind("start_id", 0) != 0) rows.push_back(split(line, '\t'));
  return rows;
}

}  // namespace

TEST_CASE("design: a greedy round takes the best single substitution that in-silico mutagenesis finds") {
  TempDir dir;
  const Ensemble models({tiny_models(dir, "a", 1)});
  const std::vector<Start> starts = random_starts(1, 40, Constraints{}, 7);
  for (const std::string target : {"max", "min"}) {
    SearchOptions options;
    options.rounds = 1;
    options.objective = parse_objective(target, 0);
    const std::vector<Row> rows = design_rows(models, starts, options);
    REQUIRE(rows.size() == 2);
    const IsmResult ism = in_silico_mutagenesis(models.member(0), "s", starts[0].promoter, 64);
    double best = 0;
    std::string expected = starts[0].promoter;  // stays when no substitution helps
    for (size_t i = 0; i < ism.effects.size(); ++i)
      for (size_t b = 0; b < 4; ++b) {
        const double gain = target == "max" ? ism.effects[i][b] : -ism.effects[i][b];
        if (gain > best) {
          best = gain;
          expected = starts[0].promoter;
          expected[i] = kBases[b];
        }
      }
    CHECK(best > 0);  // an untrained model still moves with one base
    CHECK_MESSAGE(rows[1].best.promoter == expected, "target ", target);
    CHECK(std::abs(rows[1].best.mean - rows[0].best.mean) == doctest::Approx(best).epsilon(1e-3));
  }
}

TEST_CASE("design: the best score never decreases across rounds (greedy, beam, evolve)") {
  TempDir dir;
  const Ensemble models({tiny_models(dir, "a", 1), tiny_models(dir, "b", 2)});
  const std::vector<Start> starts = random_starts(2, 20, Constraints{}, 3);
  for (Method method : {Method::kGreedy, Method::kBeam, Method::kEvolve}) {
    SearchOptions options;
    options.method = method;
    options.rounds = 3;
    options.width = 2;
    options.objective = parse_objective("max", 0.5);
    const std::vector<Row> rows = design_rows(models, starts, options);
    REQUIRE(rows.size() == 4 * starts.size());
    for (size_t s = 0; s < starts.size(); ++s) {
      for (int64_t round = 1; round <= 3; ++round) {
        const Row& before = rows[size_t(round - 1) * starts.size() + s];
        const Row& after = rows[size_t(round) * starts.size() + s];
        REQUIRE(after.start.id == starts[s].id);
        CHECK(after.round == round);
        CHECK(after.best.score >= before.best.score);
        CHECK(after.best.score == doctest::Approx(after.best.mean - 0.5 * after.best.sd));
      }
      CHECK(rows[3 * starts.size() + s].best.score > rows[s].best.score);  // the search got somewhere
    }
  }
}

TEST_CASE("design: given flanks and non-mutable positions never change") {
  TempDir dir;
  const Ensemble models({tiny_models(dir, "a", 1)});
  const std::string promoter = "ACGTTGCAACGGATCCATGCAGGTACCTTAGC";  // 32 nt
  write_text(dir.file("starts.txt"), std::string(kFlank5) + promoter + std::string(kFlank3) + "\n" +
                                         std::string(kFlank5) + promoter + "\n" + promoter + "\n");
  Constraints constraints;
  constraints.mutable_ranges = parse_ranges("5-15,30", "--mutable");
  const std::vector<Start> starts = read_starts({dir.file("starts.txt")}, InputFormat::kAuto, 100, constraints);
  REQUIRE(starts.size() == 3);
  for (Method method : {Method::kGreedy, Method::kBeam, Method::kEvolve}) {
    SearchOptions options;
    options.method = method;
    options.rounds = 3;
    options.width = 2;
    options.constraints = constraints;
    int64_t changed = 0;
    for (const Row& row : design_rows(models, starts, options)) {
      // Start "0" has both flanks, "1" only the 5' one, "2" none.
      const std::string flank5 = row.start.id == "2" ? "" : std::string(kFlank5);
      const std::string flank3 = row.start.id == "0" ? std::string(kFlank3) : "";
      const std::string sequence = row.start.sequence(row.best.promoter);
      REQUIRE(sequence.size() == flank5.size() + promoter.size() + flank3.size());
      CHECK(sequence.starts_with(flank5));
      CHECK(sequence.ends_with(flank3));
      const std::string designed = sequence.substr(flank5.size(), promoter.size());
      for (size_t i = 0; i < promoter.size(); ++i) {
        const bool may_change = (i + 1 >= 5 && i + 1 <= 15) || i + 1 == 30;
        if (!may_change) CHECK_MESSAGE(designed[i] == promoter[i], "position ", i + 1);
        changed += designed[i] != promoter[i];
      }
    }
    CHECK(changed > 0);
  }
}

TEST_CASE("design: edit budget, avoided motifs on both strands, GC window and homopolymer limit hold in every design") {
  TempDir dir;
  const Ensemble models({tiny_models(dir, "a", 1)});
  Constraints c;
  c.avoid = parse_motifs("acg,GGA", "--avoid");  // also CGT and TCC, by their reverse complements
  c.gc_min = 0.4;
  c.gc_max = 0.55;
  c.max_homopolymer = 2;
  c.max_edits = 3;
  const std::vector<Start> starts = random_starts(3, 24, c, 11);
  for (Method method : {Method::kGreedy, Method::kBeam, Method::kEvolve}) {
    for (const std::string target : {"max", "min"}) {
      SearchOptions options;
      options.method = method;
      options.rounds = 4;
      options.width = 2;
      options.objective = parse_objective(target, 0);
      options.constraints = c;
      int64_t most_edits = 0;
      for (const Row& row : design_rows(models, starts, options)) {
        const std::string& p = row.best.promoter;
        for (const std::string motif : {"ACG", "GGA"}) {
          CHECK_MESSAGE(p.find(motif) == std::string::npos, p);
          CHECK_MESSAGE(p.find(naive_reverse_complement(motif)) == std::string::npos, p);
        }
        const double gc = double(std::count(p.begin(), p.end(), 'G') + std::count(p.begin(), p.end(), 'C')) / 24;
        CHECK(gc >= 0.4);
        CHECK(gc <= 0.55);
        CHECK(longest_run(p) <= 2);
        int64_t edits = 0;
        for (size_t i = 0; i < p.size(); ++i) edits += p[i] != row.start.promoter[i];
        CHECK(edits <= 3);
        most_edits = std::max(most_edits, edits);
      }
      CHECK(most_edits == 3);  // the budget binds
    }
  }
}

TEST_CASE("design: constraints that no promoter can meet, and bad constraint text, are refused") {
  Constraints c;
  c.gc_min = 0.6;
  c.gc_max = 0.5;
  CHECK(contains(error_of([&] { check_satisfiable(c, 80); }), "GC window"));
  c.gc_min = 0.1;
  c.gc_max = 1;
  c.avoid = {"C"};  // forbids C and G
  CHECK(contains(error_of([&] { check_satisfiable(c, 80); }), "the avoided motifs forbid (CG)"));
  c.avoid = {"A", "C"};
  CHECK(contains(error_of([&] { check_satisfiable(c, 80); }), "every base"));
  c = Constraints{};
  c.gc_min = c.gc_max = 0.5;  // 0.5 of 7 nt is no whole number of bases
  CHECK(contains(error_of([&] { check_satisfiable(c, 7); }), "no promoter of 7 nt"));
  c = Constraints{};
  c.mutable_ranges = {{90, 95}};
  CHECK(contains(error_of([&] { check_satisfiable(c, 80); }), "position 90 is past the end"));

  CHECK(contains(error_of([&] { parse_motifs("GGTCTC,GANTC", "--avoid"); }), "'N' at position 3"));
  CHECK(contains(error_of([&] { parse_motifs("GGTCTC,", "--avoid"); }), "empty motif"));
  CHECK(contains(error_of([&] { parse_ranges("3-1", "--mutable"); }), "ends before it starts"));
  CHECK(contains(error_of([&] { parse_ranges("0-4", "--mutable"); }), "not a position"));
  CHECK(parse_ranges("1-20,35", "--mutable") == std::vector<std::pair<int, int>>{{1, 20}, {35, 35}});
  CHECK(contains(error_of([&] { parse_objective("high", 0); }), "must be max, min or a number"));
  CHECK(parse_objective("12.5", 0).value == 12.5);
  CHECK(contains(error_of([&] { parse_method("anneal"); }), "must be greedy, beam or evolve"));
}

TEST_CASE("design: pf-design gives the same bytes on 1 and 2 threads for the same seed") {
  TempDir dir;
  const std::string a = tiny_models(dir, "a", 1), b = tiny_models(dir, "b", 2);
  auto run = [&](const std::string& method, const std::string& threads, const std::string& seed) {
    const std::string out = dir.file(method + "_" + threads + "_" + seed + ".tsv");
    std::vector<std::string> argv = {app_path("pf-design"), "--checkpoint", a, "--checkpoint", b, "--random", "2",
                                     "--length", "16", "--rounds", "2", "--method", method, "--seed", seed,
                                     "--threads", threads, "--batch-size", "16", "--penalty-sd", "1", "--output", out};
    if (method != "greedy") argv.insert(argv.end(), {"--width", "2"});
    const ProcessResult r = run_process(argv);
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    return read_text(out);
  };
  for (const std::string method : {"greedy", "beam", "evolve"}) {
    const std::string one = run(method, "1", "5");
    CHECK(tsv_rows(one).size() == 2 * 3);
    CHECK_MESSAGE(run(method, "2", "5") == one, method);
    CHECK_MESSAGE(run(method, "1", "6") != one, method);  // the seed matters
  }
}

TEST_CASE("design: every reported prediction equals pf-infer's on the designed sequence within 1e-5") {
  TempDir dir;
  const std::vector<std::string> checkpoints = {tiny_models(dir, "a", 1), tiny_models(dir, "b", 2)};
  const std::string promoter = "TTGCAAGCTAGGATCCATGC";
  write_text(dir.file("starts.fa"), ">flanked\n" + std::string(kFlank5) + promoter + std::string(kFlank3) +
                                        "\n>bare\n" + promoter + "\n");
  const ProcessResult r =
      run_process({app_path("pf-design"), "--checkpoint", checkpoints[0], "--checkpoint", checkpoints[1], "--target",
                   "10.5", "--method", "beam", "--width", "2", "--rounds", "2", "--output", dir.file("designs.tsv"),
                   dir.file("starts.fa")});
  INFO("stderr: ", r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::vector<std::string>> rows = tsv_rows(read_text(dir.file("designs.tsv")));
  REQUIRE(rows.size() == 2 * 3);
  std::string sequences;
  for (const auto& row : rows) sequences += row[2] + "\n";
  write_text(dir.file("designed.txt"), sequences);
  for (size_t m = 0; m < checkpoints.size(); ++m) {
    size_t i = 0;
    run_inference(load_model(checkpoints[m]), {dir.file("designed.txt")}, InferenceOptions{},
                  [&](const Prediction& p) {
                    REQUIRE(i < rows.size());
                    CHECK(p.sequence == rows[i][2]);
                    CHECK(std::abs(std::stod(rows[i][5 + m]) - double(p.value)) <= 1e-5);
                    ++i;
                  });
    CHECK(i == rows.size());
  }
  for (const auto& row : rows) {
    const double x = std::stod(row[5]), y = std::stod(row[6]);
    CHECK(std::stod(row[7]) == doctest::Approx((x + y) / 2).epsilon(1e-7));
    CHECK(std::stod(row[8]) == doctest::Approx(std::abs(x - y) / 2).epsilon(1e-6));
    CHECK(std::stod(row[9]) == doctest::Approx(-std::abs((x + y) / 2 - 10.5)).epsilon(1e-6));
  }
}
