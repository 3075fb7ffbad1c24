// Inference over sequence files: read (DREAM txt/tsv, FASTA, one per line;
// plain, gzip or stdin), validate, encode, predict in batches of mixed
// lengths, hand each prediction to a sink in input order.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "proformer/checkpoint.h"
#include "proformer/reader.h"

namespace pf::proformer {

struct InferenceOptions {
  int64_t batch_size = 256;
  bool skip_invalid = false;  // report bad records and go on, instead of stopping
  InputFormat format = InputFormat::kAuto;
};

struct Prediction {
  std::string id;
  std::string sequence;  // as read
  float z = 0;           // model output (z-space)
  float value = 0;       // mapped back to the training label scale
};

struct InferenceStats {
  int64_t predicted = 0;
  int64_t skipped = 0;  // invalid records (only with skip_invalid)
};

// Predicts every record of every input. A record is invalid when it is empty,
// has a character outside ACGTN, or is longer than seq_len once the plasmid
// flanks (if present) are removed; invalid records throw pf::Error with
// FILE:LINE, or with skip_invalid are reported on stderr and counted.
InferenceStats run_inference(const LoadedModel& model, const std::vector<std::string>& inputs,
                             const InferenceOptions& options, const std::function<void(const Prediction&)>& sink);

}  // namespace pf::proformer
