// pf-design: search for promoters that reach a target expression under a
// trained Proformer (or an ensemble of them), under constraints.
//
//   pf-design --checkpoint runs/a/best --target max --random 100 --rounds 20 --output designs.tsv
//   pf-design --checkpoint runs/a/best --checkpoint runs/b/best --penalty-sd 1 --target 14 starts.fa
//   pf-design --checkpoint runs/a/best --target min --method beam --width 4 --avoid GGTCTC --plot plots/ starts.txt
//
// The search itself is proformer/design/search.h; the constraints
// constraints.h, the objective objective.h, the output design_tsv.h.
#include <algorithm>
#include <cstdio>

#include "apps/command_line.h"
#include "apps/devices.h"
#include "apps/run_options.h"
#include "proformer/api/predictor.h"
#include "reports/design_tsv.h"
#include "reports/plots.h"
#include "reports/progress_line.h"

using namespace pf;
using namespace pf::proformer;
using namespace pf::proformer::design;

namespace {

Constraints parse_constraints(const CommandLine& cli) {
  Constraints c;
  if (cli.has("avoid")) c.avoid = parse_motifs(cli.get("avoid"), "--avoid");
  c.gc_min = cli.get_number("gc-min", 0, 1);
  c.gc_max = cli.get_number("gc-max", 0, 1);
  c.max_homopolymer = int(cli.get_int("max-homopolymer", 0));
  if (cli.has("max-edits")) c.max_edits = cli.get_int("max-edits", 0);
  if (cli.has("mutable")) c.mutable_ranges = parse_ranges(cli.get("mutable"), "--mutable");
  return c;
}

SearchOptions parse_search(const CommandLine& cli) {
  SearchOptions o;
  o.method = parse_option("method", [&] { return parse_method(cli.get("method")); });
  PF_CHECK(o.method != Method::kGreedy || !cli.has("width"), "pf-design",
           "--width applies to --method beam or evolve, not greedy");
  o.rounds = cli.get_int("rounds", 0);
  o.width = cli.get_int("width", 1);
  o.seed = uint64_t(cli.get_int("seed", 0));
  const double penalty_sd = cli.get_number("penalty-sd", 0, 1e6);
  o.objective = parse_option("target", [&] { return parse_objective(cli.get("target"), penalty_sd); });
  o.constraints = parse_constraints(cli);
  return o;
}

// The speed of the search rounds (round 0, which scores the starts, left out):
// candidates per second over all of them and the median time of one round.
void print_summary(const std::vector<RoundReport>& rounds) {
  int64_t candidates = 0;
  std::vector<double> seconds;  // of rounds 1 ..
  for (const RoundReport& r : rounds)
    if (r.round > 0) {
      candidates += r.candidates;
      seconds.push_back(r.seconds);
    }
  if (seconds.empty()) return;
  double total = 0;
  for (double s : seconds) total += s;
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  const double median = n % 2 ? seconds[n / 2] : (seconds[n / 2 - 1] + seconds[n / 2]) / 2;
  std::fprintf(stderr, "pf-design: %zu rounds, %ld candidates scored in %.2f s (%.1f candidates/s); median round %.3f s\n",
               n, long(candidates), total, double(candidates) / std::max(total, 1e-9), median);
}

int main_body(int argc, char** argv) {
  CommandLine cli("pf-design",
                  "pf-design --checkpoint CKPT [--checkpoint CKPT2 ...] [options] (--random N | INPUT ...)",
                  "Searches for promoters whose predicted expression reaches --target, starting from each sequence\n"
                  "of the inputs (DREAM txt/tsv, FASTA or one sequence per line; plain or gzip; '-' for stdin) or\n"
                  "from --random N random promoters. Only the promoter the model reads changes: plasmid flanks given\n"
                  "with a start are kept. With several checkpoints the score is the ensemble mean minus --penalty-sd\n"
                  "times the sd over the members (for min: minus the mean, minus the penalty).\n"
                  "\n"
                  "Methods: greedy (the best single substitution per round), beam (--width best designs, all their\n"
                  "single substitutions), evolve (a population of --width with crossover and mutation). Every\n"
                  "round's candidates are scored in batched forward passes; the same --seed gives the same output.\n"
                  "\n"
                  "Output (TSV, one row per start and round, round 0 = the start): start_id, round, sequence, n_edits,\n"
                  "edits (against the start, 1-based without flanks, e.g. 12A>G), model_1 .. model_M, mean, sd, score.");
  cli.option("checkpoint", "model checkpoint; give it several times for an ensemble");
  cli.option("target", "max, min, or an expression value to reach (training label scale)", "max");
  cli.option("random", "start from N random promoters instead of input sequences");
  cli.option("length", "with --random: promoter length in nt (flanks removed)", "80");
  cli.option("rounds", "rounds of search", "10");
  cli.option("method", "greedy, beam or evolve", "greedy");
  cli.option("width", "beam width or evolve population", "4");
  cli.option("seed", "seed of the random starts and of evolve", "0");
  cli.option("penalty-sd", "lambda: the score subtracts lambda x the sd over the ensemble members", "0");
  cli.option("mutable", "only these 1-based positions may change (flanks removed), e.g. 1-20,35,60-80");
  cli.option("max-edits", "at most this many substitutions against the start");
  cli.option("avoid", "motifs that no design may contain on either strand, e.g. GGTCTC,GAATTC");
  cli.option("gc-min", "lowest GC fraction of a design", "0");
  cli.option("gc-max", "highest GC fraction of a design", "1");
  cli.option("max-homopolymer", "longest run of one base allowed (0 = no limit)", "0");
  cli.option("output", "designs TSV (written atomically); stdout when not given");
  cli.option("plot", "draw DIR/design_trajectory.png, the score against rounds (needs gnuplot)");
  declare_run_options(cli);
  if (!cli.parse(argc, argv)) return 0;
  const std::vector<std::string> checkpoints = cli.get_all("checkpoint");
  PF_CHECK(!checkpoints.empty(), "pf-design", "--checkpoint is required (see --help)");
  const bool random = cli.has("random");
  PF_CHECK(random != !cli.positional().empty(), "pf-design",
           random ? "give --random N or start sequences, not both" : "no start sequences (give INPUT files or --random N)");
  PF_CHECK(random || !cli.has("length"), "pf-design", "--length applies to --random starts only");
  const SearchOptions options = parse_search(cli);
  const Predictor model(checkpoints, run_settings(cli));
  const Ensemble& models = model.models();
  const std::vector<Start> starts =
      random ? random_starts(cli.get_int("random", 1), int(cli.get_int("length", 1)), options.constraints, options.seed)
             : read_starts(cli.positional(), parse_option("input-format", [&] { return input_format_from_name(cli.get("input-format")); }), models.seq_len(),
                           options.constraints);

  Output output(cli);
  auto emit = [&](const std::string& text) { output.write(text); };
  emit(design_tsv_header(models));
  std::vector<RoundReport> rounds;
  Progress progress("pf-design round", options.rounds, "candidates", 1);  // rounds 1 .. (round 0 scores the starts)
  model.design(
      starts, options, [&](const Start& start, int64_t round, const Scored& best) { emit(design_tsv_row(start, round, best)); },
      [&](const RoundReport& r) {
        rounds.push_back(r);
        if (r.round == 0) return;
        char status[128];
        std::snprintf(status, sizeof status, "%ld candidates | score mean %.4g best %.4g", long(r.candidates),
                      r.mean_score, r.best_score);
        progress.update(r.round, r.candidates, status);
      });
  progress.finish();
  print_summary(rounds);
  output.commit();
  if (cli.has("plot")) plot_design(rounds, options.objective.describe(), cli.get("plot"));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  register_devices();
  return run_app("pf-design", main_body, argc, argv);
}
