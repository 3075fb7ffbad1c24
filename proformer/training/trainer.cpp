#include "proformer/training/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "autograd/autocast.h"
#include "core/atomic_file.h"
#include "core/cpu/cpu_backend.h"
#include "nn/optim/schedule.h"
#include "proformer/checkpoint.h"
#include "proformer/threads.h"
#include "proformer/training/metrics_log.h"
#include "proformer/data/prefetcher.h"
#include "proformer/training/progress.h"
#include "proformer/training/run_lock.h"
#include "proformer/training/train_step.h"
#include "proformer/training/training_data.h"
#include "proformer/training/validation.h"

namespace pf::proformer {

namespace {

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

// printf into a std::string, for the lines train() tells (TrainOptions::message).
__attribute__((format(printf, 1, 2))) std::string formatted(const char* format, ...) {
  va_list args, count_args;
  va_start(args, format);
  va_copy(count_args, args);
  std::string out(size_t(std::vsnprintf(nullptr, 0, format, count_args)), '\0');
  va_end(count_args);
  std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

void tell_start(const Message& tell, const Config& config, const TrainingData& t, const TrainState& state,
                bool resuming, const std::string& last) {
  tell(formatted("%s: %ld promoters (%ld dropped: longer than %ld nt), %zu train / %zu validation, "
                 "labels mean %.4f std %.4f",
                 t.source.c_str(), long(t.data.size()), long(t.data.dropped_too_long), long(config.model.seq_len),
                 t.split.train.size(), t.split.val.size(), t.stats.mean, t.stats.std));
  if (config.train.device == "cpu") tell(formatted("CPU GEMM: %s", CpuBackend::gemm_kernels().c_str()));
  if (!config.train.init_from.empty())
    tell(formatted("initialised from %s%s", config.train.init_from.c_str(),
                   config.train.reset_head ? " (expression head reset)" : ""));
  if (resuming)
    tell(formatted("resumed from %s at step %ld (epoch %ld, batch %ld)", last.c_str(), long(state.step),
                   long(state.next_batch.epoch), long(state.next_batch.batch)));
}

// One line on how each batch is split, with several ranks or micro-batches.
void tell_ranks(const Message& tell, const nn::Communicator& world, const nn::Communicator& gradients,
                const BatchSplit& split, const nn::GradReducer* reducer) {
  if (world.size() == 1) {
    if (split.micro_batches() > 1)
      tell(formatted("gradient accumulation: each batch of %ld in %ld micro-batches of %ld", long(split.global),
                     long(split.micro_batches()), long(split.micro)));
    return;
  }
  std::string line =
      formatted("%d ranks (%s, gradients over %s): %ld rows each per batch of %ld, %ld micro-batch%s of %ld",
                world.size(), world.name(), gradients.name(), long(split.rows), long(split.global),
                long(split.micro_batches()), split.micro_batches() > 1 ? "es" : "", long(split.micro));
  if (reducer)
    line += formatted(", gradients in %ld bucket%s", long(reducer->buckets()), reducer->buckets() > 1 ? "s" : "");
  tell(line);
}

// The losses of the global batch summed over the steps since the last read,
// how many steps that was, and whether any rank was asked to stop
// (should_stop): all ranks then stop after the same step.
struct LoggedLosses {
  double total = 0, mse = 0, ce = 0;
  int64_t steps = 0;
  bool stop_requested = false;
};
// One read-back from the device (nn::StepChecks::read, which throws at a
// non-finite step), then one all-reduce over the ranks.
LoggedLosses read_losses(nn::Communicator& world, nn::StepChecks& checks, bool stop_asked) {
  const nn::StepChecks::Sums mine = checks.read();
  std::vector<double> values = {0, 0, 0, stop_asked ? 1.0 : 0.0};
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

std::string progress_status(const TrainProgress& p) {
  char status[96] = "";
  if (p.epoch > 0) std::snprintf(status, sizeof status, "epoch %ld | loss %.4f | lr %.2e", long(p.epoch), p.loss, p.lr);
  return status;
}

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

namespace {

// The run's model: initial_model on `device`, in training mode.
std::unique_ptr<Proformer> model_on(const Config& config, Device device) {
  std::unique_ptr<Proformer> model = initial_model(config);
  model->to(device);
  model->train();
  return model;
}

// One training run, in the order it happens: the constructor sets it up
// (reads and checks every input, then opens output.dir), step() runs one
// optimisation step and then end_of_step() its policy (read the losses,
// report progress, evaluate, log, save), and finish() prints the time spent.
class Run {
 public:
  Run(const Config& config, const TrainOptions& options);
  bool running() const { return state_.step < total_steps_ && !stop_; }
  void step();
  TrainSummary finish();

 private:
  void end_of_step(const Batch& batch, double lr);
  void read_losses_at(const Batch& batch, double lr);
  void report_progress(const Batch& batch);
  ValidationResult validate_now(const Batch& batch);
  void checkpoint(const std::string& prefix, bool with_optimizer);

  const Config& config_;
  const TrainOptions& options_;
  const Message tell_;  // options.message, or stderr
  const std::unique_ptr<nn::Communicator> alone_;  // the world when options.world is null
  nn::Communicator& world_;
  nn::Communicator& gradients_;
  const bool root_;  // prints and writes files
  const std::filesystem::path dir_;
  const std::string last_, best_;  // checkpoint prefixes in dir
  const TrainingData data_;
  const BatchSplit split_;
  const Device device_;
  const std::unique_ptr<Proformer> model_;
  nn::Adam optimizer_;
  BatchOptions batch_options_;
  int64_t total_steps_ = 0;
  std::unique_ptr<nn::LrSchedule> schedule_;
  TrainState state_;
  bool resuming_ = false;
  std::unique_ptr<nn::GradReducer> reducer_;
  std::optional<RunLock> lock_;  // one run per output.dir: a second stops before writing
  std::optional<MetricsLog> metrics_;
  Generator dropout_gen_;
  nn::LossScaler scaler_;
  nn::StepChecks checks_;
  StepContext step_;
  std::optional<Prefetcher> batches_;
  std::optional<ProgressMeter> meter_;
  TrainProgress progress_;            // epoch, loss and lr as last read
  TrainSummary summary_;
  int64_t first_step_ = 0;
  bool stop_asked_ = false;  // should_stop has said true
  bool stop_ = false;        // a rank was asked to stop, as of the last read
};

// Everything that can fail on bad input (the data, the split, init_from, the
// checkpoint to resume from) comes before the first file is written into
// output.dir, and nothing is printed before it either: a run that cannot
// start leaves output.dir as it was and prints one error line.
Run::Run(const Config& config, const TrainOptions& options)
    : config_(config),
      options_(options),
      tell_(options.message ? options.message : Message([](const std::string& line) {
        std::fprintf(stderr, "%s\n", line.c_str());
      })),
      alone_(options.world ? nullptr : nn::single_process()),
      world_(options.world ? *options.world : *alone_),
      gradients_(options.gradients ? *options.gradients : world_),
      root_(world_.is_root()),
      dir_(config.output.dir),
      last_((dir_ / "last").string()),
      best_((dir_ / "best").string()),
      data_(load_training_data(config)),
      split_(split_batch(config.train, world_.size(), world_.rank())),
      device_(train_device(config.train, world_.local_rank())),
      // The model (fresh, or from init_from); prints nothing, so a failure
      // further down still leaves a single error line.
      model_(model_on(config, device_)),
      optimizer_(model_->named_parameters(), adam_options(config.optimizer)),
      dropout_gen_(uint64_t(config.train.seed + 1)),
      scaler_(config.train.loss_scale_growth_interval),
      checks_(model_->named_parameters()),
      step_{*model_, optimizer_, split_, device_, config.optimizer, dropout_gen_, nullptr, {}, checks_} {
  backend_for(device_).set_tf32(config.train.tf32);
  batch_options_.batch_size = config.train.batch_size;
  batch_options_.seed = uint64_t(config.train.seed);
  batch_options_.mask_prob = config.data.mask_prob;
  const int64_t batches_per_epoch =
      BatchIterator(data_.data, data_.split.train, data_.stats, batch_options_).batches_per_epoch();
  total_steps_ = config.train.epochs * batches_per_epoch;
  if (config.train.max_steps > 0) total_steps_ = std::min(total_steps_, config.train.max_steps);
  schedule_ = make_schedule(config, total_steps_);

  // ---- resume ----
  state_.label_stats = data_.stats;
  resuming_ = options.resume && std::filesystem::exists(model_file(last_));
  if (resuming_) {
    state_ = load_model(last_).state;
    load_weights(last_, *model_, {});
    load_optimizer(last_, optimizer_, state_);
    PF_CHECK(state_.next_batch.batch < batches_per_epoch, "train", model_file(last_), ": resumes at batch ",
             state_.next_batch.batch, " of an epoch of ", batches_per_epoch,
             " batches (HINT: data or train.batch_size differ from the run that wrote it)");
  }
  reducer_ = join_ranks(*model_, world_.size(), gradients_, config.train.bucket_mb);

  // ---- output: from here on files are written (by rank 0) ----
  if (root_) {
    std::filesystem::create_directories(dir_);
    lock_.emplace(dir_.string());
    prepare_output_dir(dir_, config);
    metrics_.emplace((dir_ / "metrics.csv").string(), state_.step);
    tell_start(tell_, config, data_, state_, resuming_, last_);
    tell_ranks(tell_, world_, gradients_, split_, reducer_.get());
  }
  dropout_gen_.offset = state_.dropout_rng_offset;
  scaler_ = nn::LossScaler(config.train.loss_scale_growth_interval, state_.loss_scaler);
  step_.reducer = reducer_.get();
  step_.precision.dtype = dtype_from_name(config.train.dtype);
  if (step_.precision.dtype == DType::f16) step_.precision.scaler = &scaler_;

  batches_.emplace(BatchIterator(data_.data, data_.split.train, data_.stats, batch_options_, state_.next_batch));
  meter_.emplace(total_steps_);
  first_step_ = state_.step;
}

void Run::step() {
  Batch batch = batches_->next();  // the global batch: every rank slices its own rows
  const double lr = schedule_->lr(state_.step + 1);
  const auto begin = std::chrono::steady_clock::now();
  compute_gradients(step_, batch, state_.step + 1);
  if (options_.after_backward) options_.after_backward(model_->named_parameters());
  apply_gradients(step_, lr, state_.step + 1);
  ++state_.step;
  state_.next_batch = batches_->position();
  summary_.train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  end_of_step(batch, lr);
}

void Run::end_of_step(const Batch& batch, double lr) {
  const TrainConfig& train = config_.train;
  const bool epoch_end = state_.next_batch.batch == 0;
  const bool evaluate = train.eval_every > 0 ? state_.step % train.eval_every == 0 : epoch_end;
  const bool log = state_.step % std::max<int64_t>(train.log_every, 1) == 0;
  const bool save =
      config_.output.checkpoint_every > 0 ? state_.step % config_.output.checkpoint_every == 0 : epoch_end;
  if (options_.should_stop && options_.should_stop()) stop_asked_ = true;
  // The losses and checks are read from the device only here, not every step
  // (a read-back waits for the device to drain); a lone process also reads
  // when asked to stop, so that it stops at once.
  if (log || evaluate || save || state_.step == total_steps_ || (world_.size() == 1 && stop_asked_))
    read_losses_at(batch, lr);
  if (root_) report_progress(batch);
  const bool finished = state_.step == total_steps_ || stop_;
  ValidationResult val{NAN, NAN, NAN, {}};
  if ((evaluate || finished) && !data_.split.val.empty()) val = validate_now(batch);
  if (root_ && (log || !std::isnan(val.pearson) || finished))
    metrics_->write_row(state_.step, batch.position.epoch + 1, lr, val, meter_->items_per_second());
  if (save || finished) checkpoint(last_, true);
}

// The losses since the last read, and whether a rank was asked to stop; the
// read counts as step time.
void Run::read_losses_at(const Batch& batch, double lr) {
  const auto begin = std::chrono::steady_clock::now();
  const LoggedLosses loss = read_losses(world_, checks_, stop_asked_);
  stop_ = loss.stop_requested;
  progress_.epoch = batch.position.epoch + 1;
  progress_.loss = loss.total / double(std::max<int64_t>(loss.steps, 1));
  progress_.lr = lr;
  if (root_) metrics_->add_steps(loss.total, loss.mse, loss.ce, loss.steps);
  summary_.train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

// To the progress hook, or the progress line without one.
void Run::report_progress(const Batch& batch) {
  meter_->update(state_.step, batch.size);
  progress_.step = state_.step;
  progress_.total_steps = total_steps_;
  progress_.samples_per_second = meter_->items_per_second();
  progress_.elapsed_seconds = meter_->elapsed_seconds();
  progress_.eta_seconds = meter_->eta_seconds();
  if (options_.progress)
    options_.progress(progress_);
  else if (progress_.step % config_.train.log_every == 0 || progress_.step == total_steps_)
    tell_(progress_text("train", progress_.step, progress_.total_steps, progress_status(progress_),
                        progress_.samples_per_second, "samples", progress_.elapsed_seconds, progress_.eta_seconds));
}

// The scores on the validation split, in the run's precision: printed and
// handed to the after_validation hook; a new best Pearson also writes best.*
// and val_predictions.tsv.
ValidationResult Run::validate_now(const Batch& batch) {
  ValidationResult val;
  {
    autocast::AutocastGuard autocast(step_.precision.dtype);
    val = validate(*model_, data_.data, data_.split.val, data_.stats, config_.train.batch_size, world_);
  }
  summary_.last_val_pearson = val.pearson;
  if (root_)
    tell_(formatted("%sstep %ld: validation MSE %.4f, Pearson %.4f, Spearman %.4f",
                    options_.message || !isatty(fileno(stderr)) ? "" : "\n",  // below a progress line redrawn in place
                    long(state_.step), val.mse, val.pearson, val.spearman));
  if (val.pearson > state_.best_val_pearson) {
    state_.best_val_pearson = val.pearson;
    checkpoint(best_, false);
    if (root_)
      write_val_predictions((dir_ / "val_predictions.tsv").string(), data_.data, data_.split.val, data_.stats,
                            val.predictions);
  }
  if (root_ && options_.after_validation) options_.after_validation(state_.step, batch.position.epoch + 1, val);
  return val;
}

// A checkpoint of the model (and with_optimizer, Adam's state) at `prefix`;
// never one with a non-finite parameter.
void Run::checkpoint(const std::string& prefix, bool with_optimizer) {
  const std::string bad = nn::first_non_finite_value(model_->named_parameters());
  PF_CHECK(bad.empty(), "train", "parameter ", bad, " is not finite at step ", state_.step,
           "; no checkpoint written, ", last_, " keeps the last good one");
  state_.dropout_rng_offset = dropout_gen_.offset;
  state_.loss_scaler = scaler_.state();
  if (root_) save_checkpoint(prefix, *model_, with_optimizer ? &optimizer_ : nullptr, state_, to_yaml(config_));
}

TrainSummary Run::finish() {
  summary_.all_reduce_wait_seconds = reducer_ ? reducer_->wait_seconds() : 0;
  summary_.steps = state_.step;
  summary_.best_val_pearson = state_.best_val_pearson;
  summary_.best_checkpoint = best_;
  summary_.stopped = stop_ && state_.step < total_steps_;
  world_.barrier();  // no rank leaves (and finalises MPI) while another still needs it
  if (!root_) return summary_;
  metrics_->close();  // complete on disk for whoever reads it next (pf-train's plots)
  const double seconds = std::max(summary_.train_seconds, 1e-9);
  tell_(formatted("training steps: %.1f s, %.1f samples/s; waiting for gradient all-reduces: %.2f s (%.1f%%)",
                  summary_.train_seconds, double((state_.step - first_step_) * config_.train.batch_size) / seconds,
                  summary_.all_reduce_wait_seconds, 100 * summary_.all_reduce_wait_seconds / seconds));
  return summary_;
}

}  // namespace

TrainSummary train(const Config& config, const TrainOptions& options) {
  set_cpu_threads(int(config.train.threads));
  Run run(config, options);
  while (run.running()) run.step();
  return run.finish();
}

}  // namespace pf::proformer
