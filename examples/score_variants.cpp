// Load a checkpoint and score one promoter and its variants from C++: every
// substitution at one position, as predicted expression and as the effect
// (variant minus reference) on the label scale.
//
// Usage: example_score_variants CHECKPOINT (a prefix or its .model.safetensors)
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "proformer/checkpoint.h"  // load_model
#include "proformer/inference/predict.h"     // predict_encoded
#include "proformer/data/sequence.h"    // strip_flanks, encode_promoter

using namespace pf::proformer;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CHECKPOINT\n", argv[0]);
    return 2;
  }
  const LoadedModel loaded = load_model(argv[1]);  // in eval mode
  const int seq_len = int(loaded.model->config().seq_len);

  const std::string ref = "TCGTCGGTGTATAATCTGAACGTTCCGGATTTTTCAATACGATATCCGTGAAATTAATGTTCGTTCACGGTTTATTGTTAGGGTTACG";
  const int position = 20;  // 0-based, in the promoter without flanks
  std::vector<std::string> sequences = {ref};
  for (char base : std::string("ACGT"))
    if (base != ref[position]) sequences.push_back(ref.substr(0, position) + base + ref.substr(position + 1));

  const int64_t n = int64_t(sequences.size());
  std::vector<uint8_t> tokens(size_t(n) * 2 * size_t(seq_len));  // [n, 2 * seq_len]
  for (int64_t i = 0; i < n; ++i)
    encode_promoter(strip_flanks(sequences[size_t(i)]), seq_len, tokens.data() + i * 2 * seq_len);
  const std::vector<float> z = predict_encoded(*loaded.model, tokens.data(), n, n);  // z-scores

  bool finite = true;
  const float ref_expression = loaded.state.label_stats.unzscore(z[0]);
  for (int64_t i = 0; i < n; ++i) {
    const float expression = loaded.state.label_stats.unzscore(z[size_t(i)]);
    finite = finite && std::isfinite(expression);
    const std::string name = i == 0 ? "reference" : std::string(1, ref[position]) + std::to_string(position) +
                                                        sequences[size_t(i)][position];
    std::printf("%-10s expression %7.3f  effect %+.4f\n", name.c_str(), expression, expression - ref_expression);
  }
  return finite ? 0 : 1;
}
