// Why does the model predict that? Load a checkpoint and ask which bases of
// one promoter drive its prediction, with two attribution methods: the
// gradient (saliency, one backward pass) and integrated gradients (the
// gradient averaged from a uniform baseline to the promoter, whose scores add
// up to the change in prediction). Prints the five most important positions
// and that sum, and writes a sequence logo.
//
// Usage: example_attributions CHECKPOINT [LOGO_DIR]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "proformer/checkpoint.h"              // load_model
#include "proformer/inference/attribution.h"  // attribute, relaxed_predictions, ig_baselines
#include "reports/logo.h"         // write_logo_svg

using namespace pf::proformer;

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT [LOGO_DIR]\n", argv[0]);
    return 2;
  }
  const LoadedModel loaded = load_model(argv[1]);  // in eval mode
  const std::vector<SequenceRecord> promoter = {
      {"example", "TCGTCGGTGTATAATCTGAACGTTCCGGATTTTTCAATACGATATCCGTGAAATTAATGTTCGTTCACGGTTTATTGTTAGGGTTACG", 1}};

  AttributionOptions options;  // saliency by default
  const Attribution saliency = attribute(loaded, promoter, options, 0)[0];
  options.method = AttributionMethod::kIntegratedGradients;
  options.ig_steps = 16;
  const Attribution integrated = attribute(loaded, promoter, options, 0)[0];

  // The five positions whose own base matters most to integrated gradients.
  std::vector<size_t> order(integrated.bases.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::abs(integrated.projected(a)) > std::abs(integrated.projected(b));
  });
  std::printf("prediction %.4f\n", integrated.prediction);
  for (size_t k = 0; k < 5; ++k)
    std::printf("position %3zu %c  integrated gradients %+.5f  saliency %+.5f\n", order[k] + 1,
                integrated.bases[order[k]], integrated.projected(order[k]), saliency.projected(order[k]));

  // Completeness: the projected scores add up to f(promoter) - f(baseline).
  const RelaxedPromoter x = relaxed_promoter(integrated.bases, int(loaded.model->config().seq_len));
  const double baseline = relaxed_predictions(loaded, ig_baselines(x, integrated.bases, options, 0))[0];
  double total = 0;
  for (size_t i = 0; i < integrated.bases.size(); ++i) total += integrated.projected(i);
  std::printf("sum of scores %.5f, f(promoter) - f(uniform baseline) %.5f\n", total, integrated.prediction - baseline);
  if (argc == 3) write_logo_svg(integrated, argv[2]);
  return std::isfinite(total) ? 0 : 1;
}
