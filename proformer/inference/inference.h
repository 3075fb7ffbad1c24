// Inference over sequence files: read (DREAM txt/tsv, FASTA, one per line;
// plain, gzip or stdin), validate, encode, predict in batches of mixed
// lengths, hand each prediction to a sink in input order.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "proformer/checkpoint.h"
#include "proformer/data/reader.h"
#include "proformer/inference/batcher.h"
#include "proformer/inference/ensemble.h"

namespace pf::proformer {

struct InferenceOptions {
  int64_t batch_size = kDefaultBatchSize;
  bool skip_invalid = false;  // report bad records and go on, instead of stopping
  InputFormat format = InputFormat::kAuto;
};

struct Prediction {
  std::string id;
  std::string sequence;  // as read
  float z = 0;           // model output (z-space); for an ensemble, that of the mean
  double value = 0;      // on the training label scale; for an ensemble, the members' mean
  MemberSpread spread = {};   // over the members (sd 0 and n 1 for one model)
};

struct InferenceStats {
  int64_t predicted = 0;
  int64_t skipped = 0;  // invalid records (only with skip_invalid)
};

// Why `sequence` (as read, plasmid flanks optional) cannot be predicted by a
// model of seq_len positions per strand, or "" when it can: it is empty, has a
// character outside ACGTN, or is empty or longer than seq_len once the flanks
// are removed.
std::string unpredictable_reason(std::string_view sequence, int64_t seq_len);

// A record of an input file that the model cannot read (see for_each_valid_record).
struct InvalidRecord : Error {
  using Error::Error;
};

// Reads every record of every input in order and calls `visit` for each one
// that unpredictable_reason accepts. An invalid record throws InvalidRecord
// with FILE:LINE, or with options.skip_invalid is reported on stderr and skipped.
// Returns the number of skipped records.
int64_t for_each_valid_record(const std::vector<std::string>& inputs, const InferenceOptions& options, int64_t seq_len,
                              const std::function<void(const SequenceRecord&)>& visit);

// Predicts every record of every input with every member of `models`. A record is invalid when it is empty,
// has a character outside ACGTN, or is longer than seq_len once the plasmid
// flanks (if present) are removed; invalid records throw pf::Error with
// FILE:LINE, or with skip_invalid are reported on stderr and counted.
InferenceStats run_inference(const Ensemble& models, const std::vector<std::string>& inputs,
                             const InferenceOptions& options, const std::function<void(const Prediction&)>& sink);

}  // namespace pf::proformer
