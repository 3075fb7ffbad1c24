#include "reports/attribution_files.h"

#include <cstdio>
#include <filesystem>

#include "reports/tsv.h"
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

constexpr size_t kArray = 0;  // each file's one array, arr_0

}  // namespace

AttributionFiles::AttributionFiles(const std::string& dir, int64_t seq_len, int64_t members)
    : seq_len_(seq_len),
      ohe_(created(dir) + "/ohe.npz"),
      attr_(dir + "/attr.npz"),
      attr_sd_(members > 1 ? std::make_unique<nn::NpzWriter>(dir + "/attr_sd.npz") : nullptr),
      tsv_(dir + "/attributions.tsv") {
  for (nn::NpzWriter* npz : {&ohe_, &attr_, attr_sd_.get()})
    if (npz) npz->add_array("arr_0", {4, seq_len});
  tsv_.write(attribution_tsv_header(members));
}

std::vector<float> AttributionFiles::channels_first(const std::vector<std::array<float, 4>>& values) const {
  std::vector<float> out(size_t(4 * seq_len_), 0.0f);  // [4, L]
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t b = 0; b < 4; ++b) out[b * size_t(seq_len_) + i] = values[i][b];
  return out;
}

void AttributionFiles::write(const Attribution& a) {
  std::vector<std::array<float, 4>> one_hot(a.bases.size(), {0, 0, 0, 0});  // [L][A C G T], all 0 at an N
  for (size_t i = 0; i < a.bases.size(); ++i)
    for (size_t b = 0; b < 4; ++b) one_hot[i][b] = token_of(a.bases[i]) == int(b) ? 1.0f : 0.0f;
  ohe_.append(kArray, channels_first(one_hot).data());
  attr_.append(kArray, channels_first(a.scores).data());
  if (attr_sd_) attr_sd_->append(kArray, channels_first(a.score_sd).data());
  tsv_.write(attribution_tsv_row(a));
}

void AttributionFiles::commit() {
  ohe_.commit();
  attr_.commit();
  if (attr_sd_) attr_sd_->commit();
  tsv_.commit();
}

std::string attribution_tsv_header(int64_t members) {
  return "# attributions on the training label scale; projected = the score of each position's own base\n"
         "# (positions 1..length of the promoter with the plasmid flanks removed, comma-separated)\n"
         "id\tsequence\tlength\tprediction" +
         spread_tsv_header("prediction", members, false) + "\tprojected\n";
}

std::string attribution_tsv_row(const Attribution& a) {
  char number[32];
  std::snprintf(number, sizeof number, "%.6g", a.prediction);
  std::string row = a.id + "\t" + a.sequence + "\t" + std::to_string(a.bases.size()) + "\t" + number +
                    spread_tsv_columns(a.spread, false) + "\t";
  for (size_t i = 0; i < a.bases.size(); ++i) {
    std::snprintf(number, sizeof number, "%s%.6g", i ? "," : "", a.projected(i));
    row += number;
  }
  return row + "\n";
}

}  // namespace pf::proformer
