#include "proformer/training/training_data.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace pf::proformer {

TrainingData load_training_data(const Config& config) {
  namespace fs = std::filesystem;
  TrainingData t;
  const bool from_cache = !config.data.cache.empty() && fs::exists(config.data.cache);
  t.source = from_cache ? config.data.cache : config.data.train;
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "reading %s\n", t.source.c_str());
  t.data = from_cache ? EncodedDataset::load_cache(config.data.cache)
                      : EncodedDataset::from_tsv(config.data.train, int(config.model.seq_len));
  PF_CHECK(t.data.size() > 0, "train", t.source, ": no promoters to train on (",
           t.data.dropped_too_long > 0
               ? "all " + std::to_string(t.data.dropped_too_long) + " are longer than model.seq_len"
               : std::string("the file is empty"),
           ")");
  if (!config.data.cache.empty() && !from_cache) t.data.save_cache(config.data.cache);
  if (config.data.max_lines > 0 && t.data.size() > config.data.max_lines) {
    t.data.tokens.resize(size_t(config.data.max_lines * t.data.row_tokens()));
    t.data.labels.resize(size_t(config.data.max_lines));
  }
  t.split = split_train_val(t.data.size(), config.data.val_fraction, config.data.split_seed);
  PF_CHECK(int64_t(t.split.train.size()) >= config.train.batch_size, "train", t.source, ": ", t.split.train.size(),
           " training promoters make no batch of train.batch_size = ", config.train.batch_size,
           " (expected more promoters or a smaller batch)");
  try {
    t.stats = label_stats(t.data.labels, t.split.train);
  } catch (const Error& e) {
    PF_FAIL("train", t.source, ": cannot z-score the labels: ", e.what());
  }
  return t;
}

}  // namespace pf::proformer
