#include "proformer/validation.h"

#include <cstdio>

#include "core/atomic_file.h"
#include "proformer/metrics.h"
#include "proformer/predict.h"

namespace pf::proformer {

ValidationResult validate(Proformer& model, const EncodedDataset& data, const std::vector<int64_t>& indices,
                          const LabelStats& stats, int64_t batch_size) {
  model.eval();
  std::vector<uint8_t> rows;  // [validation rows, 2 * seq_len]
  rows.reserve(indices.size() * size_t(data.row_tokens()));
  std::vector<double> labels;
  for (int64_t i : indices) {
    rows.insert(rows.end(), data.row(i), data.row(i) + data.row_tokens());
    labels.push_back(stats.zscore(data.labels[size_t(i)]));
  }
  std::vector<float> z = predict_encoded(model, rows.data(), int64_t(indices.size()), batch_size);
  std::vector<double> predictions(z.begin(), z.end());
  model.train();
  return {mean_squared_error(predictions, labels), pearson(predictions, labels), spearman(predictions, labels),
          predictions};
}

void write_val_predictions(const std::string& path, const EncodedDataset& data, const std::vector<int64_t>& indices,
                           const LabelStats& stats, const std::vector<double>& predictions_z) {
  AtomicFile file(path);
  file.write("measured\tpredicted\n");
  char line[64];
  for (size_t k = 0; k < indices.size(); ++k) {
    std::snprintf(line, sizeof line, "%.6g\t%.6g\n", data.labels[size_t(indices[k])],
                  stats.unzscore(float(predictions_z[k])));
    file.write(line);
  }
  file.commit();
}

}  // namespace pf::proformer
