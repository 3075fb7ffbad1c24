// Evaluation during training: the model's predictions on the validation rows,
// scored in z-space (Pearson and Spearman do not depend on the scale), and the
// measured-vs-predicted table written at the best checkpoint.
#pragma once
#include <string>
#include <vector>

#include "nn/distributed/communicator.h"
#include "proformer/data/dataset.h"
#include "proformer/model.h"

namespace pf::proformer {

struct ValidationResult {
  double mse = 0, pearson = 0, spearman = 0;
  std::vector<double> predictions;  // [validation rows], z-space
};

// Predicts `indices` (rows of data) in batches of batch_size, in eval mode;
// the model is back in train mode afterwards. Data parallel: rank r of
// `world` predicts its contiguous share of the rows, and every rank gets all
// the predictions (an all-reduce of zeros and the shares: exact) and the same
// scores.
ValidationResult validate(Proformer& model, const EncodedDataset& data, const std::vector<int64_t>& indices,
                          const LabelStats& stats, int64_t batch_size, nn::Communicator& world);

// <path> (val_predictions.tsv): measured and predicted expression (training
// label scale) of each validation promoter, for the scatter plot.
void write_val_predictions(const std::string& path, const EncodedDataset& data, const std::vector<int64_t>& indices,
                           const LabelStats& stats, const std::vector<double>& predictions_z);

}  // namespace pf::proformer
