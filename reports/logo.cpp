#include "reports/logo.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"

#include "proformer/data/sequence.h"

namespace pf::proformer {

const std::vector<std::pair<double, double>>& glyph(int base) {
  static const std::vector<std::pair<double, double>> glyphs[4] = {
      // A: two legs and a crossbar
      {{0, 0}, {0.38, 1}, {0.62, 1}, {1, 0}, {0.78, 0}, {0.68, 0.3}, {0.32, 0.3}, {0.22, 0}},
      // C: a box open on the right
      {{1, 1}, {0, 1}, {0, 0}, {1, 0}, {1, 0.2}, {0.22, 0.2}, {0.22, 0.8}, {1, 0.8}},
      // G: the C with a spur
      {{1, 1}, {0, 1}, {0, 0}, {1, 0}, {1, 0.5}, {0.5, 0.5}, {0.5, 0.32}, {0.78, 0.32}, {0.78, 0.2}, {0.22, 0.2},
       {0.22, 0.8}, {1, 0.8}},
      // T: a bar on a stem
      {{0, 1}, {1, 1}, {1, 0.8}, {0.6, 0.8}, {0.6, 0}, {0.4, 0}, {0.4, 0.8}, {0, 0.8}},
  };
  return glyphs[base];
}

const char* base_colour(int base) {
  static const char* const colours[4] = {"#109648", "#255c99", "#f7b32b", "#d62839"};
  return colours[base];
}

std::string file_name_of(const std::string& id) {
  std::string name = id.empty() ? "sequence" : id;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  return name;
}

std::string logo_svg(const Attribution& a) {
  const int L = int(a.bases.size());
  double range = 0;  // the largest |score|: the y axis spans [-range, range]
  for (int i = 0; i < L; ++i) range = std::max(range, double(std::abs(a.projected(size_t(i)))));
  if (range == 0) range = 1;
  // Layout in pixels: a margin for the axis labels, 12 px per position, a plot 200 px high.
  const double left = 60, top = 30, width = 12, height = 200, mid = top + height / 2;
  char buffer[256];
  std::string svg;
  std::snprintf(buffer, sizeof buffer,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
                "font-size=\"12\">\n",
                left + width * L + 20, top + height + 40);
  svg += buffer;
  std::string title = a.id + ": projected score, prediction ";  // escaped below
  std::snprintf(buffer, sizeof buffer, "%.4g", a.prediction);
  title += buffer;
  std::string escaped;
  for (char c : title) escaped += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  svg += "<text x=\"" + std::to_string(int(left)) + "\" y=\"18\">" + escaped + "</text>\n";
  // The axis at score 0, and tick labels for +-range.
  std::snprintf(buffer, sizeof buffer,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>\n"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                left, mid, left + width * L, mid, left - 4, top + 4, range, left - 4, mid + 4, left - 4,
                top + height + 4, -range);
  svg += buffer;
  for (int i = 0; i < L; ++i) {
    const double x = left + width * i, scale = height / 2 / range;
    if ((i + 1) % 10 == 0) {  // a position label every 10
      std::snprintf(buffer, sizeof buffer, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
                    x + width / 2, top + height + 18, i + 1);
      svg += buffer;
    }
    const int b = token_of(a.bases[size_t(i)]);
    const double score = a.projected(size_t(i));
    if (b > kT || score == 0) continue;
    // The glyph's unit box maps to [x, x + width] x [mid, mid - score * scale].
    svg += "<polygon fill=\"" + std::string(base_colour(b)) + "\" points=\"";
    for (const auto& [gx, gy] : glyph(b)) {
      std::snprintf(buffer, sizeof buffer, "%.2f,%.2f ", x + gx * width, mid - gy * score * scale);
      svg += buffer;
    }
    svg.back() = '"';
    svg += "/>\n";
  }
  std::snprintf(buffer, sizeof buffer, "<text x=\"%.1f\" y=\"%.1f\">position (plasmid flanks removed)</text>\n",
                left, top + height + 34);
  return svg + buffer + "</svg>\n";
}

void write_logo_svg(const Attribution& a, const std::string& dir) {
  std::error_code ignored;  // a failure shows when the file is opened
  std::filesystem::create_directories(dir, ignored);
  AtomicFile file(dir + "/" + file_name_of(a.id) + ".logo.svg");
  file.write(logo_svg(a));
  file.commit();
}

}  // namespace pf::proformer
