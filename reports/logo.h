// Sequence logos of attributions: one letter per position, the promoter's own
// base, as tall as its projected score (attribution.h); letters of negative
// scores hang below the axis. Letters are block glyphs, polygons in a unit
// box, so that the SVG drawn here and the PNG that gnuplot draws
// (plots.h, plot_logo) show the same shapes:
//
//   logo_svg     <dir>/<id>.logo.svg, written by our own code (pf-infer --attributions --plot)
//   plot_logo    <dir>/<id>.logo.png, through gnuplot
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "proformer/inference/attribution.h"

namespace pf::proformer {

// The outline of base b (0..3: A C G T) in the unit box, x and y in [0, 1],
// y up, as one simple polygon.
const std::vector<std::pair<double, double>>& glyph(int base);

// The colour of base b (A green, C blue, G orange, T red), "#rrggbb".
const char* base_colour(int base);

// The SVG document of `attribution`'s logo: x is the position (flanks
// removed), y the projected score on the training label scale.
std::string logo_svg(const Attribution& attribution);

// Writes logo_svg(attribution) to <dir>/<name>.logo.svg (atomically; `dir`
// created when missing), name as file_name_of(id). Throws pf::Error naming
// the file when it cannot.
void write_logo_svg(const Attribution& attribution, const std::string& dir);

// Letters, digits, '.', '-' and '_' of `id`; anything else becomes '_' (the
// file names of plots and logos).
std::string file_name_of(const std::string& id);

}  // namespace pf::proformer
