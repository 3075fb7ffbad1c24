// pf-train: train Proformer from a YAML config.
//
//   pf-train configs/demo.yaml
//   pf-train configs/default.yaml data.train=train_sequences.txt.gz train.batch_size=256
//   pf-train configs/demo.yaml --resume          (continue runs/demo/last exactly)
//   mpirun -np 4 pf-train configs/default.yaml   (data parallel: 4 ranks, one per GPU or CPU share)
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "apps/devices.h"
#include "nn/distributed/communicator.h"
#include "apps/command_line.h"
#include "reports/plots.h"
#include "reports/progress_line.h"
#include "proformer/training/trainer.h"

using namespace pf;
using namespace pf::proformer;

namespace {

// The ranks of this run: MPI under mpirun or srun, else this process alone.
// Started before the command line is read so that every rank reads it.
std::unique_ptr<nn::Communicator> g_world;

// SIGINT and SIGTERM ask the run to stop after the current step, with a
// checkpoint to resume from (TrainOptions::should_stop). The handlers are
// installed when train() first asks, after the first step: until then, while
// the data is read (minutes for the full data set), the signals end pf-train
// at once as usual. They are removed once train() returns.
std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) { g_stop_requested = true; }

bool stop_requested() {
  static std::once_flag handlers;
  std::call_once(handlers, [] {
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
  });
  return g_stop_requested;
}

// learning_curves.png and, when the run validated, val_scatter.png in the run's directory.
void draw_plots(const std::string& dir) {
  if (!plot_training(dir)) return;
  const bool validated = std::filesystem::exists(std::filesystem::path(dir) / "val_predictions.tsv");
  std::fprintf(stderr, "plots in %s: learning_curves.png%s\n", dir.c_str(), validated ? ", val_scatter.png" : "");
}

int main_body(int argc, char** argv) {
  CommandLine cli("pf-train", "pf-train CONFIG.yaml [section.key=value ...] [--resume]",
                  "Trains Proformer as the config says (see configs/default.yaml for every key). Writes\n"
                  "checkpoints (best.* by validation Pearson, last.*), metrics.csv and config.yaml into output.dir.\n"
                  "key=value arguments override config entries, e.g. train.batch_size=64 model.dropout=0.1.\n"
                  "Data parallel: mpirun -np N pf-train ... (or srun) splits every batch over N ranks.");
  cli.flag("resume", "continue from output.dir/last.* (parameters, optimiser, schedule, RNG and data position)");
  if (!cli.parse(argc, argv)) return 0;
  const auto& args = cli.positional();
  PF_CHECK(!args.empty(), "pf-train", "no config file given (usage: pf-train CONFIG.yaml; see --help)");
  Config config = load_config(args[0]);
  for (size_t i = 1; i < args.size(); ++i) apply_override(config, args[i]);
  TrainOptions options;
  options.resume = cli.enabled("resume");
  options.world = g_world.get();
  const Device device = train_device(config.train, g_world->local_rank());
  const std::unique_ptr<nn::Communicator> gpus = device.is_cpu() ? nullptr : gpu_communicator(*g_world, device);
  options.gradients = gpus.get();
  options.should_stop = stop_requested;
  ProgressLine line("train", "samples", config.train.log_every);  // redrawn in place on a terminal
  options.progress = [&](const TrainProgress& p) {
    line.show(p.step, p.total_steps, progress_status(p), p.samples_per_second, p.elapsed_seconds, p.eta_seconds);
  };
  TrainSummary summary = train(config, options);
  if (g_world->is_root()) line.finish();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!g_world->is_root()) return 0;
  draw_plots(config.output.dir);
  if (summary.stopped) std::fprintf(stderr, "stopped at step %ld; resume with --resume\n", long(summary.steps));
  std::fprintf(stderr, "pf-train: %ld steps, best validation Pearson %.4f (checkpoint %s)\n", long(summary.steps),
               summary.best_val_pearson, summary.best_checkpoint.c_str());
  return 0;
}

// A rank that fails ends every rank: the others would wait for it forever.
int main_or_abort(int argc, char** argv) {
  try {
    return main_body(argc, argv);
  } catch (const std::exception& e) {
    if (g_world->size() > 1) {
      std::fprintf(stderr, "pf-train: error on rank %d of %d: %s\n", g_world->rank(), g_world->size(), e.what());
      g_world->abort(1);
    }
    throw;  // one process: run_app prints it
  }
}

}  // namespace

int main(int argc, char** argv) {
  return run_app("pf-train", [](int argc, char** argv) {
    g_world = nn::start_communicator();
    register_devices();
    const int status = main_or_abort(argc, argv);
    g_world.reset();  // MPI_Finalize
    return status;
  }, argc, argv);
}
