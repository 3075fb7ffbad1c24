// Plots as PNG files, drawn by gnuplot (Debian package gnuplot-nox), which
// runs as an external program on a script written next to the picture, so a
// learner can read the script, change it and run it again:
//
//   plot_training   <run dir>/learning_curves.png and val_scatter.png (pf-train)
//   plot_ism        <dir>/<id>.ism.png, a heat map of an ISM matrix (pf-infer --ism --plot)
//   plot_logo       <dir>/<id>.logo.png, a sequence logo of attributions (pf-infer --attributions --plot)
//   plot_design     <dir>/design_trajectory.png, the score against rounds (pf-design --plot)
//
// Plots are optional: when gnuplot is not on the PATH (warned once per
// process) or fails, a warning goes to stderr, the functions return false and
// the caller carries on. Nothing here throws.
#pragma once
#include <string>
#include <vector>

#include "proformer/design/search.h"
#include "proformer/inference/attribution.h"
#include "proformer/inference/ism.h"

namespace pf::proformer {

// Writes <dir>/plot_training.gp and runs it in `dir`: learning_curves.png
// (training loss, MSE and validation MSE above; validation Pearson and
// Spearman below; all against the step) from metrics.csv and, when
// val_predictions.tsv exists (columns measured, predicted), val_scatter.png
// (predicted against measured, r in the title) and the validation panel.
// Returns true when gnuplot drew them.
bool plot_training(const std::string& dir);

// Writes <dir>/<name>.ism.gp, the matrix inline, and runs it: <dir>/<name>.ism.png
// shows the effects (x: position with the flanks removed, y: A C G T; red
// raises, blue lowers the prediction; dots mark the reference bases). `name`
// is the id with characters other than letters, digits, '.', '-' and '_'
// replaced by '_'. Returns true when gnuplot drew it.
bool plot_ism(const IsmResult& result, const std::string& dir);

// Writes <dir>/<name>.logo.gp, the glyphs as polygon objects (logo.h), and
// runs it: <dir>/<name>.logo.png, the sequence logo of the projected scores
// (letters of negative scores below the axis, upside down). `name` as for
// plot_ism. Returns true when gnuplot drew it.
bool plot_logo(const Attribution& attribution, const std::string& dir);

// Writes <dir>/design_trajectory.gp, the rounds inline, and runs it:
// <dir>/design_trajectory.png shows the score of the starts' best designs
// against the round (best and mean over the starts, and the band from the
// worst to the best). `objective` names the target in the title. Returns true
// when gnuplot drew it.
bool plot_design(const std::vector<design::RoundReport>& rounds, const std::string& objective, const std::string& dir);

}  // namespace pf::proformer
