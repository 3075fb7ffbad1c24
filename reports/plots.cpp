#include "reports/plots.h"

#include "proformer/data/sequence.h"
#include "reports/logo.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace pf::proformer {

namespace {

namespace fs = std::filesystem;

// The full path of the gnuplot program on the PATH, or "" when there is none.
std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / "gnuplot";
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// find_gnuplot(), or "" after a warning (printed once) when there is none.
std::string gnuplot_or_warning() {
  static bool warned = false;
  std::string gnuplot = find_gnuplot();
  if (gnuplot.empty() && !warned)
    std::fprintf(stderr, "warning: gnuplot not found, skipping the plots (HINT: apt-get install gnuplot-nox)\n");
  warned |= gnuplot.empty();
  return gnuplot;
}

// Writes `script` to <dir>/<script_name> and runs gnuplot on it with `dir` as
// the working directory, so the script's file names are relative to `dir`.
// gnuplot's own output goes to stderr (stdout may carry TSV). Returns true on
// success; otherwise warns on stderr, naming `what`.
bool run_gnuplot(const std::string& dir, const std::string& script_name, const std::string& script,
                 const std::string& what) {
  const std::string gnuplot = gnuplot_or_warning();
  if (gnuplot.empty()) return false;
  const fs::path script_path = fs::path(dir) / script_name;
  {
    std::error_code ignored;  // a failure shows when the script is written
    fs::create_directories(dir, ignored);
    std::ofstream out(script_path);
    if (!(out << script).flush()) {
      std::fprintf(stderr, "warning: cannot write %s; no %s\n", script_path.c_str(), what.c_str());
      return false;
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  char* argv[] = {const_cast<char*>("gnuplot"), const_cast<char*>(script_name.c_str()), nullptr};
  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  const bool ok = spawn_error == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok) std::fprintf(stderr, "warning: gnuplot failed on %s; no %s\n", script_path.c_str(), what.c_str());
  return ok;
}

// The training plots, in three parts: the start, the loss panel, and the
// validation panel and scatter (only when the run validated). metrics.csv
// leaves the validation columns "nan" on rows without an evaluation; gnuplot
// skips those points and joins the rest.
const char* const kTrainingStart = R"gp(# Plots of a pf-train run, written by pf-train.
# To redraw, run it in this directory: gnuplot plot_training.gp
set terminal pngcairo size 900,700 noenhanced
set datafile missing "nan"
set datafile columnheaders
set grid

# learning_curves.png: the losses (and the validation correlations below), against the step.
set output "learning_curves.png"
set datafile separator ","
set xlabel "step"
set xrange [0:*]
set ylabel "loss"
)gp";
const char* const kTrainingLosses = R"gp(plot "metrics.csv" using "step":"loss" with lines lw 2 \
       title "training loss (MSE + CE)", \
     "" using "step":"mse" with lines title "training MSE")gp";
const char* const kTrainingValidation = R"gp(, \
     "" using "step":"val_mse" with linespoints pt 7 title "validation MSE"
set ylabel "validation correlation"
set key bottom right
plot "metrics.csv" using "step":"val_pearson" with linespoints pt 7 lw 2 title "Pearson r", \
     "" using "step":"val_spearman" with linespoints pt 5 title "Spearman rho"
unset multiplot

# val_scatter.png: predicted against measured expression of the validation set
# (val_predictions.tsv, written at the best checkpoint); r from gnuplot's stats.
set output "val_scatter.png"
set datafile separator "\t"
stats "val_predictions.tsv" using "measured":"predicted" nooutput
set autoscale x
set size ratio -1
set key top left
set xlabel "measured expression"
set ylabel "predicted expression"
set title sprintf("Validation set at the best checkpoint: Pearson r = %.4f (n = %d)", STATS_correlation, STATS_records)
plot "val_predictions.tsv" using "measured":"predicted" \
       with points pt 7 ps 0.4 lc rgb "#802166ac" notitle, \
     x with lines dt 2 lc rgb "black" title "predicted = measured"
)gp";

// gnuplot string literal in double quotes.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += (c == '"' || c == '\\') ? std::string{'\\', c} : std::string{c};
  return out + "\"";
}

// The opening of a per-sequence plot's script `name`.gp: what wrote it and
// how to redraw it, a PNG as wide as the sequence's L positions, the title,
// and the position axis.
std::string sequence_plot_opening(const std::string& what, const std::string& name, int L, const std::string& title,
                                  const std::string& ylabel) {
  std::ostringstream gp;
  gp << "# " << what << "\n"
     << "# Redraw in this directory: gnuplot " << name << ".gp\n"
     << "set terminal pngcairo size " << std::max(640, 150 + 10 * L) << ",300 noenhanced\n"
     << "set output " << quoted(name + ".png") << "\n"
     << "set title " << quoted(title) << "\n"
     << "set xlabel \"position (plasmid flanks removed)\"\n"
     << "set ylabel " << quoted(ylabel) << "\n"
     << "set xrange [0.5:" << L << ".5]\n"
     << "set tics out\n";
  return gp.str();
}

}  // namespace

bool plot_training(const std::string& dir) {
  const bool with_validation = fs::exists(fs::path(dir) / "val_predictions.tsv");
  std::string script = kTrainingStart;
  if (with_validation) script += "set multiplot layout 2,1 title \"Learning curves\"\n";
  script += kTrainingLosses;
  script += with_validation ? kTrainingValidation : "\n";
  return run_gnuplot(dir, "plot_training.gp", script, "training plots");
}

bool plot_ism(const IsmResult& result, const std::string& dir) {
  const std::string name = file_name_of(result.id) + ".ism";
  const int L = int(result.effects.size());
  double range = 0;  // the colour scale is [-range, range]: white = no effect
  for (const auto& row : result.effects)
    for (double e : row) range = std::max(range, std::abs(e));
  if (range == 0) range = 1;

  char reference[32];
  std::snprintf(reference, sizeof reference, "%.4g", result.reference);

  std::ostringstream gp;
  gp << sequence_plot_opening("In-silico mutagenesis heat map of " + result.id + ", written by pf-infer --ism --plot.",
                              name, L,
                              result.id + ": effect = prediction(mutant) - prediction(reference), reference " +
                                  reference,
                              "substituted base")
     << "# $effects: one row per base (A C G T), one column per position (flanks removed).\n"
     << "$effects << EOD\n";
  for (size_t b = 0; b < kBases.size(); ++b) {
    for (int i = 0; i < L; ++i) gp << (i ? " " : "") << result.effects[size_t(i)][b];
    gp << "\n";
  }
  gp << "EOD\n# $reference: position and row of each reference base.\n$reference << EOD\n";
  for (int i = 0; i < L; ++i)
    if (const size_t b = kBases.find(result.bases[size_t(i)]); b != std::string_view::npos)
      gp << i + 1 << " " << b << "\n";
  gp << "EOD\n"
     << "set ytics (\"A\" 0, \"C\" 1, \"G\" 2, \"T\" 3)\n"
     << "set yrange [3.5:-0.5]\n"
     << "set cblabel \"effect\"\n"
     << "set palette defined (-1 \"#2166ac\", 0 \"white\", 1 \"#b2182b\")\n"
     << "set cbrange [" << -range << ":" << range << "]\n"
     << "plot $effects matrix using ($1 + 1):2:3 with image notitle, \\\n"
     << "     $reference using 1:2 with points pt 7 ps 0.4 lc rgb \"black\" notitle\n";
  return run_gnuplot(dir, name + ".gp", gp.str(), "heat map for " + result.id);
}

bool plot_logo(const Attribution& a, const std::string& dir) {
  const std::string name = file_name_of(a.id) + ".logo";
  const int L = int(a.bases.size());
  double range = 0;  // the y axis spans [-range, range]
  for (int i = 0; i < L; ++i) range = std::max(range, double(std::abs(a.projected(size_t(i)))));
  if (range == 0) range = 1;
  char prediction[32];
  std::snprintf(prediction, sizeof prediction, "%.4g", a.prediction);

  std::ostringstream gp;
  gp << sequence_plot_opening("Sequence logo of " + a.id + ", written by pf-infer --attributions --plot.", name, L,
                              a.id + ": projected score, prediction " + prediction, "score")
     << "# One polygon per position: the base's glyph (logo.h) scaled to its projected score.\n"
     << "set yrange [" << -range << ":" << range << "]\n";
  int object = 0;
  for (int i = 0; i < L; ++i) {
    const int b = token_of(a.bases[size_t(i)]);
    const double score = a.projected(size_t(i));
    if (b > kT || score == 0) continue;
    gp << "set object " << ++object << " polygon from ";
    const auto& outline = glyph(b);
    for (size_t k = 0; k <= outline.size(); ++k) {  // back to the first point: a closed outline
      const auto& [x, y] = outline[k % outline.size()];
      gp << (k ? " to " : "") << (i + 0.5 + x) << "," << y * score;
    }
    gp << " fc rgb \"" << base_colour(b) << "\" fs solid noborder\n";
  }
  gp << "plot 0 with lines lc rgb \"black\" notitle\n";
  return run_gnuplot(dir, name + ".gp", gp.str(), "logo for " + a.id);
}

bool plot_design(const std::vector<design::RoundReport>& rounds, const std::string& objective, const std::string& dir) {
  std::ostringstream gp;
  gp << "# Score of the designs against the round, written by pf-design --plot.\n"
     << "# Redraw in this directory: gnuplot design_trajectory.gp\n"
     << "# $rounds: round, then the score of the starts' best designs: worst, mean, best.\n"
     << "$rounds << EOD\n";
  gp.precision(9);
  for (const design::RoundReport& r : rounds)
    gp << r.round << " " << r.worst_score << " " << r.mean_score << " " << r.best_score << "\n";
  gp << "EOD\n"
     << "set terminal pngcairo size 800,500 noenhanced\n"
     << "set output \"design_trajectory.png\"\n"
     << "set title " << quoted("pf-design, target " + objective + ": score of each start's best design") << "\n"
     << "set xlabel \"round\"\n"
     << "set ylabel \"score\"\n"
     << "set grid\n"
     << (rounds.size() <= 21 ? "set xtics 1\n" : "")  // a tic per round while they fit
     << "set key bottom right\n"
     << "plot $rounds using 1:2:4 with filledcurves fc rgb \"#c6dbef\" title \"worst to best start\", \\\n"
     << "     $rounds using 1:3 with linespoints pt 7 lw 2 lc rgb \"#2166ac\" title \"mean over starts\", \\\n"
     << "     $rounds using 1:4 with lines dt 2 lc rgb \"#b2182b\" title \"best start\"\n";
  return run_gnuplot(dir, "design_trajectory.gp", gp.str(), "design trajectory plot");
}

}  // namespace pf::proformer
