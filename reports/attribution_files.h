// pf-infer --attributions --output DIR: the files TF-MoDISco reads as they are
// (modisco motifs -s DIR/ohe.npz -a DIR/attr.npz -w L), and a TSV.
//
//   DIR/ohe.npz            arr_0: float32 [N, 4, L] one-hot of the promoters (A C G T rows)
//   DIR/attr.npz           arr_0: float32 [N, 4, L] hypothetical scores (attribution.h);
//                          the projected scores are ohe * attr
//   DIR/attr_sd.npz        with several checkpoints: arr_0: float32 [N, 4, L], the
//                          standard deviation of the members' scores (attr.npz
//                          holds their mean)
//   DIR/attributions.tsv   id, sequence (as read), length, prediction (with several
//                          checkpoints then prediction_sd and n), and the
//                          comma-separated projected score of each position
//
// L is the model's seq_len, the longest promoter it reads. A promoter of
// length < L fills columns 0 .. length-1 (position i + 1, flanks removed, is
// column i); the rest, like N positions in ohe, is zero, which adds nothing to
// the projected scores. The TSV's length column says where each one ends.
// All files are written atomically: a failed run leaves none of them.
#pragma once
#include <memory>
#include <string>

#include "core/atomic_file.h"
#include "nn/formats/npz.h"
#include "proformer/inference/attribution.h"

namespace pf::proformer {

class AttributionFiles {
 public:
  // Creates `dir` when missing and opens the files' temporary files (attr_sd
  // for more than one member); throws pf::Error naming the path when it cannot.
  AttributionFiles(const std::string& dir, int64_t seq_len, int64_t members);
  void write(const Attribution& attribution);
  // Renames the files into place.
  void commit();

 private:
  // [4, L] of a promoter's [L][A C G T] values, zero after its length.
  std::vector<float> channels_first(const std::vector<std::array<float, 4>>& values) const;

  int64_t seq_len_;
  nn::NpzWriter ohe_, attr_;
  std::unique_ptr<nn::NpzWriter> attr_sd_;  // several members only
  AtomicFile tsv_;
};

// The TSV's header (comment lines, then the column names) and one row.
std::string attribution_tsv_header(int64_t members);
std::string attribution_tsv_row(const Attribution& attribution);

}  // namespace pf::proformer
