#include "proformer/training/validation.h"

#include <cstdio>

#include "core/atomic_file.h"
#include "proformer/evaluation/metrics.h"
#include "proformer/inference/predict.h"

namespace pf::proformer {

ValidationResult validate(Proformer& model, const EncodedDataset& data, const std::vector<int64_t>& indices,
                          const LabelStats& stats, int64_t batch_size, nn::Communicator& world) {
  const auto n = int64_t(indices.size());
  const int64_t first = n * world.rank() / world.size(), count = n * (world.rank() + 1) / world.size() - first;
  std::vector<uint8_t> rows;  // [count, 2 * seq_len]: this rank's share
  rows.reserve(size_t(count * data.row_tokens()));
  for (int64_t k = first; k < first + count; ++k)
    rows.insert(rows.end(), data.row(indices[size_t(k)]), data.row(indices[size_t(k)]) + data.row_tokens());
  model.eval();
  const std::vector<float> share = predict_encoded(model, rows.data(), count, batch_size);
  model.train();
  Tensor all = Tensor::zeros({n});  // [n] f32: this rank's share in place, zeros elsewhere
  std::copy(share.begin(), share.end(), all.data<float>() + first);
  world.all_reduce_sum(all);

  std::vector<double> predictions(all.data<float>(), all.data<float>() + n), labels;
  for (int64_t i : indices) labels.push_back(stats.zscore(data.labels[size_t(i)]));
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
