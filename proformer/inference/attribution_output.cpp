#include "proformer/inference/attribution_output.h"

#include <cstdio>
#include <filesystem>

#include "proformer/data/sequence.h"

namespace pf::proformer {

namespace {

// `dir`, created when missing, for the member initialisers below.
const std::string& created(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  PF_CHECK(!error, "attributions", "cannot create the output directory ", dir, ": ", error.message());
  return dir;
}

}  // namespace

AttributionFiles::AttributionFiles(const std::string& dir, int64_t seq_len)
    : seq_len_(seq_len),
      ohe_(created(dir) + "/ohe.npz"),
      attr_(dir + "/attr.npz"),
      ohe_array_(ohe_.add_array("arr_0", {4, seq_len})),
      attr_array_(attr_.add_array("arr_0", {4, seq_len})),
      tsv_(dir + "/attributions.tsv") {
  tsv_.write(attribution_tsv_header());
}

void AttributionFiles::write(const Attribution& a) {
  std::vector<float> ohe(size_t(4 * seq_len_), 0.0f), attr(size_t(4 * seq_len_), 0.0f);  // [4, L]
  for (size_t i = 0; i < a.scores.size(); ++i)
    for (size_t b = 0; b < 4; ++b) {
      ohe[b * size_t(seq_len_) + i] = token_of(a.bases[i]) == int(b) ? 1.0f : 0.0f;
      attr[b * size_t(seq_len_) + i] = a.scores[i][b];
    }
  ohe_.append(ohe_array_, ohe.data());
  attr_.append(attr_array_, attr.data());
  tsv_.write(attribution_tsv_row(a));
}

void AttributionFiles::commit() {
  ohe_.commit();
  attr_.commit();
  tsv_.commit();
}

std::string attribution_tsv_header() {
  return "# attributions on the training label scale; projected = the score of each position's own base\n"
         "# (positions 1..length of the promoter with the plasmid flanks removed, comma-separated)\n"
         "id\tsequence\tlength\tprediction\tprojected\n";
}

std::string attribution_tsv_row(const Attribution& a) {
  char number[32];
  std::snprintf(number, sizeof number, "%.6g", a.prediction);
  std::string row = a.id + "\t" + a.sequence + "\t" + std::to_string(a.bases.size()) + "\t" + number + "\t";
  for (size_t i = 0; i < a.bases.size(); ++i) {
    std::snprintf(number, sizeof number, "%s%.6g", i ? "," : "", a.projected(i));
    row += number;
  }
  return row + "\n";
}

}  // namespace pf::proformer
