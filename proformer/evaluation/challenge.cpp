#include "proformer/evaluation/challenge.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "nn/formats/json_input.h"
#include "proformer/evaluation/metrics.h"
#include "proformer/data/reader.h"

namespace pf::proformer {

namespace {

// The scored subsets: their names, label files and weights, in the order of
// the official formula. The weights sum to 4.65, the formula's denominator.
struct SubsetFile {
  const char* name;
  const char* file;  // in the labels directory
  bool pairs;        // keys "alt,ref" and values [alt_expression, ref_expression]
  double weight;
};

constexpr SubsetFile kSubsets[] = {
    {"all", "ground.json", false, 1.0},
    {"high", "high_exp_indices.json", false, 0.3},
    {"low", "low_exp_indices.json", false, 0.3},
    {"yeast", "yeast_exp_indices.json", false, 0.3},
    {"random", "random_exp_indices.json", false, 0.3},
    {"challenging", "challenging_exp_indices.json", false, 0.5},
    {"SNV", "SNVs_exp_indices.json", true, 1.25},
    {"motif_perturbation", "motif_perturbation_exp_indices.json", true, 0.3},
    {"motif_tiling", "motif_tiling_exp_indices.json", true, 0.4},
};

// Operation names at the start of error messages.
constexpr const char* kLoadPredictions = "load predictions";
constexpr const char* kLoadLabels = "load labels";
constexpr const char* kScore = "challenge score";

std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

std::string_view trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// A test index: a non-negative decimal integer, nothing else.
bool parse_index(std::string_view text, int64_t& index) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), index);
  return !text.empty() && text[0] != '-' && error == std::errc() && end == text.data() + text.size();
}

// A finite decimal number, nothing else.
bool parse_number(std::string_view text, double& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

// `text` followed by the remaining lines of `lines`, newlines restored.
std::string read_rest(LineReader& lines, std::string text) {
  for (std::string line; lines.next(line);) text += "\n" + line;
  return text;
}

// Parses `text` as a non-empty JSON object.
nlohmann::json parse_json_object(const std::string& text, const std::string& source, const char* op) {
  // Flat objects; pair subsets hold [alt, ref] arrays, 2 levels deep.
  const nlohmann::json json =
      nn::parse_json(text, {op, source, "the file", 2, "expected a flat JSON object {\"index\": value, ...}"});
  PF_CHECK(json.is_object(), op, source, ": expected a JSON object {\"index\": value, ...}");
  PF_CHECK(!json.empty(), op, source, ": the JSON object is empty");
  return json;
}

int64_t index_of_key(const std::string& key, const std::string& source, const char* op) {
  int64_t index = 0;
  PF_CHECK(parse_index(key, index), op, source, ": key '", excerpt(key),
           "' is not a test index (expected a non-negative integer)");
  return index;
}

double number_of(const nlohmann::json& value, const std::string& key, const std::string& source, const char* op) {
  PF_CHECK(value.is_number() && std::isfinite(value.get<double>()), op, source, ": the value of key '", excerpt(key),
           "' is not a finite number (", excerpt(value.dump()), ")");
  return value.get<double>();
}

// ---- predictions ----

Predictions predictions_from_json(const nlohmann::json& json, const std::string& source) {
  Predictions predictions{source, {}};
  for (const auto& [key, value] : json.items())
    predictions.values[index_of_key(key, source, kLoadPredictions)] = number_of(value, key, source, kLoadPredictions);
  return predictions;
}

// Reads TSV predictions; `first_line` (the first non-empty line) was just read
// from `lines`. A first column named "id" marks the pf-infer header.
Predictions predictions_from_tsv(LineReader& lines, const std::string& first_line, const std::string& source) {
  Predictions predictions{source, {}};
  size_t columns = 2, value_column = 1;
  std::string layout = "index<TAB>value";
  const std::vector<std::string_view> header = split(first_line, '\t');
  const bool has_header = header[0] == "id";
  if (has_header) {
    const auto found = std::find(header.begin(), header.end(), "prediction");
    PF_CHECK(found != header.end(), kLoadPredictions, lines.where(),
             ": the header has no 'prediction' column (expected ", "id<TAB>sequence<TAB>prediction<TAB>prediction_z)");
    columns = header.size();
    value_column = size_t(found - header.begin());
    layout = "the " + std::to_string(columns) + " columns of the header";
  }
  std::string line = first_line;
  for (bool more = !has_header || lines.next(line); more; more = lines.next(line)) {
    if (trim(line).empty()) continue;
    const std::vector<std::string_view> fields = split(line, '\t');
    PF_CHECK(fields.size() == columns, kLoadPredictions, lines.where(), ": ", fields.size(),
             " tab-separated columns (expected ", layout, ")");
    int64_t index = 0;
    double value = 0;
    PF_CHECK(parse_index(fields[0], index), kLoadPredictions, lines.where(), ": id '", excerpt(fields[0]),
             "' is not a test index (expected a non-negative integer)");
    PF_CHECK(parse_number(fields[value_column], value), kLoadPredictions, lines.where(), ": prediction '",
             excerpt(fields[value_column]), "' is not a finite number");
    PF_CHECK(predictions.values.emplace(index, value).second, kLoadPredictions, lines.where(), ": test index ", index,
             " is given twice");
  }
  return predictions;
}

// ---- labels ----

LabelledSubset load_subset(const SubsetFile& spec, const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / spec.file).string();
  LineReader lines(path);
  const nlohmann::json json = parse_json_object(read_rest(lines, ""), path, kLoadLabels);
  LabelledSubset subset{spec.name, spec.weight, spec.pairs, {}};
  for (const auto& [key, value] : json.items()) {
    Measurement m;
    if (!spec.pairs) {
      m.index = index_of_key(key, path, kLoadLabels);
      m.expression = number_of(value, key, path, kLoadLabels);
    } else {
      const std::vector<std::string_view> parts = split(key, ',');
      PF_CHECK(parts.size() == 2 && parse_index(parts[0], m.index) && parse_index(parts[1], m.reference), kLoadLabels,
               path, ": key '", excerpt(key), "' is not a pair 'alt,ref' of test indices");
      PF_CHECK(value.is_array() && value.size() == 2, kLoadLabels, path, ": the value of key '", excerpt(key),
               "' is not [alt_expression, ref_expression] (", excerpt(value.dump()), ")");
      m.expression = number_of(value[0], key, path, kLoadLabels) - number_of(value[1], key, path, kLoadLabels);
    }
    subset.measurements.push_back(m);
  }
  // JSON keys come in string order ("10" < "9"); sort them as numbers.
  std::sort(subset.measurements.begin(), subset.measurements.end(), [](const Measurement& a, const Measurement& b) {
    return std::pair(a.index, a.reference) < std::pair(b.index, b.reference);
  });
  return subset;
}

}  // namespace

Predictions load_predictions(const std::string& path) {
  const std::string source = display_name(path);
  LineReader lines(path);
  std::string line;
  while (lines.next(line) && trim(line).empty()) {
    // skip leading empty lines
  }
  const std::string_view first = trim(line);
  PF_CHECK(!first.empty(), kLoadPredictions, source, ": no predictions (the input is empty)");
  Predictions predictions;
  if (first[0] == '{' || first[0] == '[')  // a JSON array is reported as "expected a JSON object"
    predictions = predictions_from_json(parse_json_object(read_rest(lines, line), source, kLoadPredictions), source);
  else
    predictions = predictions_from_tsv(lines, line, source);
  PF_CHECK(!predictions.values.empty(), kLoadPredictions, source, ": no predictions (only a header)");
  return predictions;
}

ChallengeLabels load_labels(const std::string& dir) {
  ChallengeLabels labels;
  for (const SubsetFile& spec : kSubsets) labels.subsets.push_back(load_subset(spec, dir));
  return labels;
}

ChallengeScore score(const Predictions& predictions, const ChallengeLabels& labels) {
  PF_CHECK(!labels.subsets.empty(), kScore, "no labelled subsets");
  ChallengeScore result;
  std::unordered_set<int64_t> used;  // indices some subset needs
  double weight_sum = 0;
  for (const LabelledSubset& subset : labels.subsets) {
    auto prediction_of = [&](int64_t index) {
      used.insert(index);
      const auto found = predictions.values.find(index);
      PF_CHECK(found != predictions.values.end(), kScore, predictions.source, ": no prediction for test index ", index,
               " (needed by subset '", subset.name, "')");
      return found->second;
    };
    std::vector<double> predicted, measured;
    for (const Measurement& m : subset.measurements) {
      double value = prediction_of(m.index);
      if (subset.pairs) value -= prediction_of(m.reference);
      predicted.push_back(value);
      measured.push_back(m.expression);
    }
    const double r = pearson(predicted, measured);
    const SubsetScore s{subset.name, subset.weight, int64_t(measured.size()), r * r, spearman(predicted, measured)};
    result.pearson_score += s.weight * s.pearson_r2;
    result.spearman_score += s.weight * s.spearman_rho;
    weight_sum += s.weight;
    result.subsets.push_back(s);
  }
  result.pearson_score /= weight_sum;
  result.spearman_score /= weight_sum;
  for (const auto& [index, value] : predictions.values) result.unused_predictions += used.count(index) == 0;
  return result;
}

std::string format_report(const ChallengeScore& score) {
  std::string text = "subset               weight      n   Pearson r²   Spearman ρ\n";
  char row[160];
  double weight_sum = 0;
  for (const SubsetScore& s : score.subsets) {
    std::snprintf(row, sizeof row, "%-20s %6.2f %6lld %12.4f %12.4f\n", s.name.c_str(), s.weight, (long long)s.n,
                  s.pearson_r2, s.spearman_rho);
    text += row;
    weight_sum += s.weight;
  }
  std::snprintf(row, sizeof row, "\nPearson score  %.4f  (weighted mean of Pearson r², weights sum to %.2f)\n",
                score.pearson_score, weight_sum);
  text += row;
  std::snprintf(row, sizeof row, "Spearman score %.4f  (weighted mean of Spearman ρ)\n", score.spearman_score);
  text += row;
  if (score.unused_predictions > 0)
    text += std::to_string(score.unused_predictions) + " predictions for indices without labels were not used\n";
  return text;
}

std::string score_to_json(const ChallengeScore& score) {
  nlohmann::ordered_json json;
  json["pearson_score"] = score.pearson_score;
  json["spearman_score"] = score.spearman_score;
  json["unused_predictions"] = score.unused_predictions;
  json["subsets"] = nlohmann::ordered_json::array();
  for (const SubsetScore& s : score.subsets)
    json["subsets"].push_back({{"name", s.name},
                               {"weight", s.weight},
                               {"n", s.n},
                               {"pearson_r2", s.pearson_r2},
                               {"spearman_rho", s.spearman_rho}});
  return json.dump(2) + "\n";
}

}  // namespace pf::proformer
