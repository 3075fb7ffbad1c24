// The data of a training run: the DREAM file (or its token cache) encoded,
// cut to data.max_lines, split into training and validation rows, and the
// mean/std of the training labels for z-scoring. Everything here is read and
// checked before a run writes anything, so bad data costs one error line.
#pragma once
#include <string>

#include "proformer/config.h"
#include "proformer/data/dataset.h"

namespace pf::proformer {

struct TrainingData {
  std::string source;   // the file read: data.cache when it exists, else data.train
  EncodedDataset data;  // every promoter kept, [rows, 2 * seq_len] tokens + labels
  TrainValSplit split;  // row indices of the training and validation sets
  LabelStats stats;     // of the training labels
};

// Reads (and, with data.cache set, caches) the data; throws pf::Error naming
// the file when there is nothing to train on, too little for one batch of
// train.batch_size, or labels that cannot be z-scored.
TrainingData load_training_data(const Config& config);

}  // namespace pf::proformer
