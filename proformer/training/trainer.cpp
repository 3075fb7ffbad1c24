#include "proformer/training/trainer.h"

#include <omp.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "autograd/autocast.h"
#include "core/atomic_file.h"
#include "nn/optim/schedule.h"
#include "proformer/checkpoint.h"
#include "proformer/training/metrics_log.h"
#include "proformer/plots.h"
#include "proformer/data/prefetcher.h"
#include "proformer/training/progress.h"
#include "proformer/training/run_lock.h"
#include "proformer/training/train_step.h"
#include "proformer/data/training_data.h"
#include "proformer/training/validation.h"

namespace pf::proformer {

namespace {

std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) { g_stop_requested = true; }

std::unique_ptr<nn::LrSchedule> make_schedule(const Config& c, int64_t total_steps) {
  const auto& s = c.schedule;
  if (s.name == "noam") return std::make_unique<nn::NoamSchedule>(c.model.dim, s.warmup_steps);
  if (s.name == "cosine")
    return std::make_unique<nn::WarmupCosineSchedule>(s.lr, s.warmup_steps, s.total_steps ? s.total_steps : total_steps,
                                                      s.min_lr);
  return std::make_unique<nn::ConstantSchedule>(s.lr);
}

nn::AdamOptions adam_options(const OptimizerConfig& c) {
  nn::AdamOptions adam;
  adam.beta1 = c.beta1;
  adam.beta2 = c.beta2;
  adam.eps = c.eps;
  adam.weight_decay = c.weight_decay;
  adam.decoupled = c.name == "adamw";
  return adam;
}

void set_threads(int threads) {
  if (threads <= 0) return;  // OpenMP's default: all cores
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

// In output.dir (created and locked), removes the temporary files a killed
// run left behind and writes the effective configuration.
void prepare_output_dir(const std::filesystem::path& dir, const Config& config) {
  for (const char* name : {"config.yaml", "metrics.csv", "last.model.safetensors", "last.optim.safetensors",
                           "best.model.safetensors"}) {
    std::error_code ignored;
    std::filesystem::remove(dir / (std::string(name) + ".tmp"), ignored);
  }
  AtomicFile config_file((dir / "config.yaml").string());
  config_file.write(to_yaml(config));
  config_file.commit();
}

void print_start(const Config& config, const TrainingData& t, const TrainState& state, bool resuming,
                 const std::string& last) {
  std::fprintf(stderr,
               "%s: %ld promoters (%ld dropped: longer than %ld nt), %zu train / %zu validation, "
               "labels mean %.4f std %.4f\n",
               t.source.c_str(), long(t.data.size()), long(t.data.dropped_too_long), long(config.model.seq_len),
               t.split.train.size(), t.split.val.size(), t.stats.mean, t.stats.std);
  if (!config.train.init_from.empty())
    std::fprintf(stderr, "initialised from %s%s\n", config.train.init_from.c_str(),
                 config.train.reset_head ? " (expression head reset)" : "");
  if (resuming)
    std::fprintf(stderr, "resumed from %s at step %ld (epoch %ld, batch %ld)\n", last.c_str(), long(state.step),
                 long(state.next_batch.epoch), long(state.next_batch.batch));
}

// One line on how each batch is split, with several ranks or micro-batches.
void print_ranks(const nn::Communicator& world, const nn::Communicator& gradients, const BatchSplit& split,
                 const nn::GradReducer* reducer) {
  if (world.size() == 1) {
    if (split.micro_batches() > 1)
      std::fprintf(stderr, "gradient accumulation: each batch of %ld in %ld micro-batches of %ld\n",
                   long(split.global), long(split.micro_batches()), long(split.micro));
    return;
  }
  std::fprintf(stderr, "%d ranks (%s, gradients over %s): %ld rows each per batch of %ld, %ld micro-batch%s of %ld",
               world.size(), world.name(), gradients.name(), long(split.rows),
               long(split.global), long(split.micro_batches()), split.micro_batches() > 1 ? "es" : "",
               long(split.micro));
  if (reducer)
    std::fprintf(stderr, ", gradients in %ld bucket%s", long(reducer->buckets()), reducer->buckets() > 1 ? "s" : "");
  std::fprintf(stderr, "\n");
}

// The losses of the global batch summed over the steps since the last read,
// how many steps that was, and whether any rank was asked to stop
// (SIGINT/SIGTERM): all ranks then stop after the same step.
struct LoggedLosses {
  double total = 0, mse = 0, ce = 0;
  int64_t steps = 0;
  bool stop_requested = false;
};
// One read-back from the device (nn::StepChecks::read, which throws at a
// non-finite step), then one all-reduce over the ranks.
LoggedLosses read_losses(nn::Communicator& world, nn::StepChecks& checks) {
  const nn::StepChecks::Sums mine = checks.read();
  std::vector<double> values = {0, 0, 0, g_stop_requested ? 1.0 : 0.0};
  std::copy(mine.losses.begin(), mine.losses.end(), values.begin());  // this rank's parts: total, mse, ce
  if (world.size() > 1) {
    const Tensor summed = Tensor::from_vector(values, {4});  // [4] f64 on the host
    world.all_reduce_sum(summed);
    values.assign(summed.data<double>(), summed.data<double>() + 4);
  }
  return {values[0], values[1], values[2], mine.steps, values[3] > 0};
}

// Data parallel: every rank starts from rank 0's parameters (fresh,
// init_from or resumed); with several ranks, the GradReducer that sums the
// gradients during backward.
std::unique_ptr<nn::GradReducer> join_ranks(const Proformer& model, int ranks, nn::Communicator& gradients,
                                            double bucket_mb) {
  for (const Tensor& p : model.parameters()) gradients.broadcast(p, 0);
  if (ranks == 1) return nullptr;
  return std::make_unique<nn::GradReducer>(model.parameters(), gradients, int64_t(bucket_mb * (1 << 20)));
}

// The expression head's parameters: "expr_head.weight" and "expr_head.bias".
const std::string kExpressionHead = "expr_head.";

}  // namespace

Device train_device(const TrainConfig& train, int local_rank) {
  return train.device == "cuda" ? Device::cuda(local_rank) : parse_device(train.device);
}

std::unique_ptr<Proformer> initial_model(const Config& config) {
  auto model = std::make_unique<Proformer>(config.model, uint64_t(config.train.seed));
  const std::string& from = config.train.init_from;
  if (from.empty()) return model;
  const LoadedModel source = load_model(from);
  ModelConfig architecture = source.model->config();
  architecture.dropout = config.model.dropout;  // a training setting, not part of the weights
  PF_CHECK(architecture == config.model, "train", "train.init_from: ", model_file(from), " has the model ",
           model_config_to_json(source.model->config()), " but the config says ", model_config_to_json(config.model),
           " (HINT: copy the checkpoint's model section into the config)");
  NoGradGuard no_grad;
  for (auto& [name, p] : model->named_parameters())
    if (!config.train.reset_head || name.rfind(kExpressionHead, 0) != 0) ops::copy_(p, source.model->parameter(name));
  return model;
}

TrainSummary train(const Config& config, const TrainOptions& options) {
  namespace fs = std::filesystem;
  set_threads(int(config.train.threads));
  const std::unique_ptr<nn::Communicator> alone = options.world ? nullptr : nn::single_process();
  nn::Communicator& world = options.world ? *options.world : *alone;
  nn::Communicator& gradients = options.gradients ? *options.gradients : world;
  const bool root = world.is_root();  // prints and writes files
  const fs::path dir = config.output.dir;
  // Everything that can fail on bad input (the data, the split, init_from,
  // the checkpoint to resume from) comes before the first file is written
  // into output.dir, and nothing is printed before it either: a run that
  // cannot start leaves output.dir as it was and prints one error line.
  const TrainingData t = load_training_data(config);
  const BatchSplit split = split_batch(config.train, world.size(), world.rank());

  // ---- model and optimiser ----
  const Device device = train_device(config.train, world.local_rank());
  // Builds the model (fresh, or from init_from); prints nothing, so a failure
  // further down still leaves a single error line.
  const std::unique_ptr<Proformer> initial = initial_model(config);
  Proformer& model = *initial;
  model.to(device);
  model.train();
  nn::Adam optimizer(model.named_parameters(), adam_options(config.optimizer));
  backend_for(device).set_tf32(config.train.tf32);

  BatchOptions batch_options;
  batch_options.batch_size = config.train.batch_size;
  batch_options.seed = uint64_t(config.train.seed);
  batch_options.mask_prob = config.data.mask_prob;
  const int64_t batches_per_epoch = BatchIterator(t.data, t.split.train, t.stats, batch_options).batches_per_epoch();
  int64_t total_steps = config.train.epochs * batches_per_epoch;
  if (config.train.max_steps > 0) total_steps = std::min(total_steps, config.train.max_steps);
  const auto schedule = make_schedule(config, total_steps);

  // ---- resume ----
  TrainState state;
  state.label_stats = t.stats;
  const std::string last = (dir / "last").string(), best = (dir / "best").string();
  const bool resuming = options.resume && fs::exists(model_file(last));
  if (resuming) {
    LoadedModel loaded = load_model(last);
    state = loaded.state;
    load_weights(last, model, {});
    load_optimizer(last, optimizer, state);
    PF_CHECK(state.next_batch.batch < batches_per_epoch, "train", model_file(last), ": resumes at batch ",
             state.next_batch.batch, " of an epoch of ", batches_per_epoch,
             " batches (HINT: data or train.batch_size differ from the run that wrote it)");
  }
  const std::unique_ptr<nn::GradReducer> reducer = join_ranks(model, world.size(), gradients, config.train.bucket_mb);

  // ---- output: from here on files are written (by rank 0) ----
  std::optional<MetricsLog> metrics;
  std::optional<RunLock> lock;  // one run per output.dir: a second stops here, before writing
  if (root) {
    fs::create_directories(dir);
    lock.emplace(dir.string());
    prepare_output_dir(dir, config);
    metrics.emplace((dir / "metrics.csv").string(), state.step);
    print_start(config, t, state, resuming, last);
    print_ranks(world, gradients, split, reducer.get());
  }
  Generator dropout_gen(uint64_t(config.train.seed + 1), state.dropout_rng_offset);
  Precision precision{dtype_from_name(config.train.dtype), nullptr, options.after_backward};
  nn::LossScaler scaler(config.train.loss_scale_growth_interval, state.loss_scaler);
  if (precision.dtype == DType::f16) precision.scaler = &scaler;

  auto checkpoint = [&](const std::string& prefix, bool with_optimizer) {
    const std::string bad = nn::first_non_finite_value(model.named_parameters());
    PF_CHECK(bad.empty(), "train", "parameter ", bad, " is not finite at step ", state.step,
             "; no checkpoint written, ", last, " keeps the last good one");
    state.dropout_rng_offset = dropout_gen.offset;
    state.loss_scaler = scaler.state();
    if (root) save_checkpoint(prefix, model, with_optimizer ? &optimizer : nullptr, state, to_yaml(config));
  };

  g_stop_requested = false;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);

  // ---- the loop ----
  Prefetcher batches(BatchIterator(t.data, t.split.train, t.stats, batch_options, state.next_batch));
  Progress progress("train", total_steps, "samples", config.train.log_every);
  TrainSummary summary;
  const int64_t first_step = state.step;
  nn::StepChecks checks(model.named_parameters());
  char status[96] = "";  // shows the loss last read
  bool stop = false;
  while (state.step < total_steps && !stop) {
    Batch batch = batches.next();  // the global batch: every rank slices its own rows
    const double lr = schedule->lr(state.step + 1);
    const auto step_begin = std::chrono::steady_clock::now();
    train_step(model, optimizer, batch, split, device, config.optimizer, lr, dropout_gen, reducer.get(), precision,
               checks, state.step + 1);
    ++state.step;
    state.next_batch = batches.position();

    const bool epoch_end = state.next_batch.batch == 0;
    const bool evaluate = config.train.eval_every > 0 ? state.step % config.train.eval_every == 0 : epoch_end;
    const bool log = state.step % std::max<int64_t>(config.train.log_every, 1) == 0;
    const bool save = config.output.checkpoint_every > 0 ? state.step % config.output.checkpoint_every == 0 : epoch_end;
    // The losses and checks are read from the device only here, not every
    // step (a read-back waits for the device to drain); a lone process also
    // reads when asked to stop, so that it stops at once.
    if (log || evaluate || save || state.step == total_steps || (world.size() == 1 && g_stop_requested)) {
      const LoggedLosses loss = read_losses(world, checks);
      stop = loss.stop_requested;
      std::snprintf(status, sizeof status, "epoch %ld | loss %.4f | lr %.2e", long(batch.position.epoch) + 1,
                    loss.total / double(std::max<int64_t>(loss.steps, 1)), lr);
      if (root) metrics->add_steps(loss.total, loss.mse, loss.ce, loss.steps);
    }
    summary.train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - step_begin).count();
    if (root) progress.update(state.step, batch.size, status);
    const bool finished = state.step == total_steps || stop;
    ValidationResult val{NAN, NAN, NAN, {}};
    if ((evaluate || finished) && !t.split.val.empty()) {
      {
        autocast::AutocastGuard autocast(precision.dtype);  // validates in the run's precision
        val = validate(model, t.data, t.split.val, t.stats, config.train.batch_size, world);
      }
      summary.last_val_pearson = val.pearson;
      if (root)
        std::fprintf(stderr, "%sstep %ld: validation MSE %.4f, Pearson %.4f, Spearman %.4f\n",
                     isatty(fileno(stderr)) ? "\n" : "", long(state.step), val.mse, val.pearson, val.spearman);
      if (val.pearson > state.best_val_pearson) {
        state.best_val_pearson = val.pearson;
        checkpoint(best, false);
        if (root)
          write_val_predictions((dir / "val_predictions.tsv").string(), t.data, t.split.val, t.stats,
                                val.predictions);
      }
    }
    if (root && (log || !std::isnan(val.pearson) || finished))
      metrics->write_row(state.step, batch.position.epoch + 1, lr, val, progress.items_per_second());
    if (save || finished) checkpoint(last, true);
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  summary.all_reduce_wait_seconds = reducer ? reducer->wait_seconds() : 0;
  summary.steps = state.step;
  summary.best_val_pearson = state.best_val_pearson;
  summary.best_checkpoint = best;
  world.barrier();  // no rank leaves (and finalises MPI) while another still needs it
  if (!root) return summary;
  progress.finish();
  metrics->close();  // complete on disk before gnuplot reads it
  if (plot_training(dir.string()))
    std::fprintf(stderr, "plots in %s: learning_curves.png%s\n", dir.c_str(),
                 t.split.val.empty() ? "" : ", val_scatter.png");
  std::fprintf(stderr, "training steps: %.1f s, %.1f samples/s; waiting for gradient all-reduces: %.2f s (%.1f%%)\n",
               summary.train_seconds, double((state.step - first_step) * config.train.batch_size) / std::max(summary.train_seconds, 1e-9),
               summary.all_reduce_wait_seconds,
               100 * summary.all_reduce_wait_seconds / std::max(summary.train_seconds, 1e-9));
  if (stop) std::fprintf(stderr, "stopped at step %ld; resume with --resume\n", long(state.step));
  return summary;
}

}  // namespace pf::proformer
