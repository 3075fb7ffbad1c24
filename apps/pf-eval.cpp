// pf-eval: the official DREAM 2022 challenge score of a set of predictions on
// the public leaderboard labels.
//
//   pf-eval --predictions submission.json
//   pf-infer --checkpoint runs/demo/best --format dream-json data/test_sequences.txt.gz | pf-eval --predictions -
//   pf-eval --predictions predictions.tsv --labels data/public_leaderboard --json scores.json
#include <cstdio>
#include <memory>

#include "core/atomic_file.h"
#include "core/error.h"
#include "proformer/evaluation/challenge.h"
#include "apps/command_line.h"

using namespace pf;
using namespace pf::proformer;

namespace {

int main_body(int argc, char** argv) {
  CommandLine cli("pf-eval", "pf-eval --predictions FILE [--labels DIR] [--json OUT]",
                  "Scores predictions for the DREAM 2022 test sequences on the public leaderboard: Pearson r² and\n"
                  "Spearman ρ per subset and the weighted Pearson and Spearman challenge scores. Predictions are a\n"
                  "DREAM JSON object {\"index\": value, ...}, pf-infer TSV output (id and prediction columns) or\n"
                  "index<TAB>value lines; plain or gzip; '-' for stdin.");
  cli.option("predictions", "predictions file, '-' for stdin");
  cli.option("labels", "directory of the public leaderboard labels", "data/public_leaderboard");
  cli.option("json", "also write the scores as JSON to this file (atomically)");
  if (!cli.parse(argc, argv)) return 0;
  PF_CHECK(cli.has("predictions"), "pf-eval", "--predictions is required (see --help)");
  PF_CHECK(cli.positional().empty(), "pf-eval", "unexpected argument '", cli.positional()[0], "' (see --help)");

  // Labels and the output file first: a wrong --labels or --json is reported
  // before stdin is consumed.
  const ChallengeLabels labels = load_labels(cli.get("labels"));
  std::unique_ptr<AtomicFile> json_file;
  if (cli.has("json")) json_file = std::make_unique<AtomicFile>(cli.get("json"));
  const ChallengeScore result = score(load_predictions(cli.get("predictions")), labels);
  std::fputs(format_report(result).c_str(), stdout);
  if (json_file) {
    json_file->write(score_to_json(result));
    json_file->commit();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("pf-eval", main_body, argc, argv); }
