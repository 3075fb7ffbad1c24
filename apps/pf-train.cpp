// pf-train: train Proformer from a YAML config.
//
//   pf-train configs/demo.yaml
//   pf-train configs/default.yaml data.train=train_sequences.txt.gz train.batch_size=256
//   pf-train configs/demo.yaml --resume          (continue runs/demo/last exactly)
#include <cstdio>

#include "apps/devices.h"
#include "proformer/cli.h"
#include "proformer/trainer.h"

using namespace pf;
using namespace pf::proformer;

namespace {

int main_body(int argc, char** argv) {
  CommandLine cli("pf-train", "pf-train CONFIG.yaml [section.key=value ...] [--resume]",
                  "Trains Proformer as the config says (see configs/default.yaml for every key). Writes\n"
                  "checkpoints (best.* by validation Pearson, last.*), metrics.csv and config.yaml into output.dir.\n"
                  "key=value arguments override config entries, e.g. train.batch_size=64 model.dropout=0.1.");
  cli.flag("resume", "continue from output.dir/last.* (parameters, optimiser, schedule, RNG and data position)");
  if (!cli.parse(argc, argv)) return 0;
  const auto& args = cli.positional();
  PF_CHECK(!args.empty(), "pf-train", "no config file given (usage: pf-train CONFIG.yaml; see --help)");
  Config config = load_config(args[0]);
  for (size_t i = 1; i < args.size(); ++i) apply_override(config, args[i]);
  TrainOptions options;
  options.resume = cli.enabled("resume");
  TrainSummary summary = train(config, options);
  std::fprintf(stderr, "pf-train: %ld steps, best validation Pearson %.4f (checkpoint %s)\n", long(summary.steps),
               summary.best_val_pearson, summary.best_checkpoint.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  register_devices();
  return run_app("pf-train", main_body, argc, argv);
}
