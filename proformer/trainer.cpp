#include "proformer/trainer.h"

#include <omp.h>
#include <unistd.h>

#include <Eigen/Core>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "nn/schedule.h"
#include "proformer/checkpoint.h"
#include "proformer/metrics.h"
#include "proformer/plots.h"
#include "proformer/predict.h"
#include "proformer/prefetcher.h"
#include "proformer/progress.h"
#include "proformer/run_lock.h"

namespace pf::proformer {

namespace {

std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) { g_stop_requested = true; }

struct ValidationResult {
  double mse = 0, pearson = 0, spearman = 0;
  std::vector<double> predictions;  // [validation rows], z-space
};

// Validation in z-space (Pearson and Spearman do not depend on the scale).
ValidationResult validate(Proformer& model, const EncodedDataset& data, const std::vector<int64_t>& indices,
                          const LabelStats& stats, int64_t batch_size) {
  model.eval();
  std::vector<uint8_t> rows;
  rows.reserve(indices.size() * size_t(data.row_tokens()));
  std::vector<double> labels;
  for (int64_t i : indices) {
    rows.insert(rows.end(), data.row(i), data.row(i) + data.row_tokens());
    labels.push_back(stats.zscore(data.labels[size_t(i)]));
  }
  std::vector<float> z = predict_encoded(model, rows.data(), int64_t(indices.size()), batch_size);
  std::vector<double> predictions(z.begin(), z.end());
  model.train();
  return {mean_squared_error(predictions, labels), pearson(predictions, labels), spearman(predictions, labels),
          predictions};
}

// <dir>/val_predictions.tsv: measured and predicted expression (training
// label scale) of each validation promoter, for the scatter plot.
void write_val_predictions(const std::string& path, const EncodedDataset& data, const std::vector<int64_t>& indices,
                           const LabelStats& stats, const std::vector<double>& predictions_z) {
  AtomicFile file(path);
  file.write("measured\tpredicted\n");
  char line[64];
  for (size_t k = 0; k < indices.size(); ++k) {
    std::snprintf(line, sizeof line, "%.6g\t%.6g\n", data.labels[size_t(indices[k])],
                  stats.unzscore(float(predictions_z[k])));
    file.write(line);
  }
  file.commit();
}

std::unique_ptr<nn::LrSchedule> make_schedule(const Config& c, int64_t total_steps) {
  const auto& s = c.schedule;
  if (s.name == "noam") return std::make_unique<nn::NoamSchedule>(c.model.dim, s.warmup_steps);
  if (s.name == "cosine")
    return std::make_unique<nn::WarmupCosineSchedule>(s.lr, s.warmup_steps, s.total_steps ? s.total_steps : total_steps,
                                                      s.min_lr);
  return std::make_unique<nn::ConstantSchedule>(s.lr);
}

// The model's view of a batch: tokens [B, T] u8, targets [B, T] u8, mask [B, T], labels [B].
struct BatchTensors {
  Tensor tokens, targets, mask, labels_z;
};
BatchTensors to_tensors(const Batch& b, Device device) {
  const Shape shape = {b.size, int64_t(b.row_tokens)};
  return {ops::to(Tensor::from_vector(b.tokens, shape), device), ops::to(Tensor::from_vector(b.targets, shape), device),
          ops::to(Tensor::from_vector(b.mask, shape), device), ops::to(Tensor::from_vector(b.labels_z, {b.size}), device)};
}

// Drops the rows of metrics.csv written after `step` (by a run that went on
// past the checkpoint being resumed and then crashed), and a last row that a
// crash cut short, so the resumed run's rows follow on without duplicates.
void rewind_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path, std::ios::binary);
  std::string kept, line;
  for (bool header = true; std::getline(in, line); header = false) {
    if (in.eof()) break;  // no newline: a row cut short
    if (!header && std::strtoll(line.c_str(), nullptr, 10) > step) break;
    kept += line + "\n";
  }
  in.close();
  AtomicFile file(path);
  file.write(kept);
  file.commit();
}

void set_threads(int threads) {
  if (threads <= 0) return;  // OpenMP's default: all cores
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

// The expression head's parameters: "expr_head.weight" and "expr_head.bias".
const std::string kExpressionHead = "expr_head.";

}  // namespace

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
  set_threads(config.train.threads);
  const fs::path dir = config.output.dir;
  // Everything that can fail on bad input (the data, the split, init_from,
  // the checkpoint to resume from) comes before the first file is written
  // into output.dir, and nothing is printed before it either: a run that
  // cannot start leaves output.dir as it was and prints one error line.

  // ---- data ----
  const bool from_cache = !config.data.cache.empty() && fs::exists(config.data.cache);
  const std::string data_source = from_cache ? config.data.cache : config.data.train;
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "reading %s\n", data_source.c_str());
  EncodedDataset data = from_cache ? EncodedDataset::load_cache(config.data.cache)
                                   : EncodedDataset::from_tsv(config.data.train, int(config.model.seq_len));
  PF_CHECK(data.size() > 0, "train", data_source, ": no promoters to train on (",
           data.dropped_too_long > 0 ? "all " + std::to_string(data.dropped_too_long) + " are longer than model.seq_len"
                                     : std::string("the file is empty"),
           ")");
  if (!config.data.cache.empty() && !from_cache) data.save_cache(config.data.cache);
  if (config.data.max_lines > 0 && data.size() > config.data.max_lines) {
    data.tokens.resize(size_t(config.data.max_lines * data.row_tokens()));
    data.labels.resize(size_t(config.data.max_lines));
  }
  TrainValSplit split = split_train_val(data.size(), config.data.val_fraction, config.data.split_seed);
  PF_CHECK(int64_t(split.train.size()) >= config.train.batch_size, "train", data_source, ": ", split.train.size(),
           " training promoters make no batch of train.batch_size = ", config.train.batch_size,
           " (expected more promoters or a smaller batch)");
  LabelStats stats;
  try {
    stats = label_stats(data.labels, split.train);
  } catch (const Error& e) {
    PF_FAIL("train", data_source, ": cannot z-score the labels: ", e.what());
  }

  // ---- model and optimiser ----
  const Device device = config.train.device == "cpu" ? Device::cpu() : Device::cuda(0);
  // Builds the model (fresh, or from init_from); prints nothing, so a failure
  // further down still leaves a single error line.
  const std::unique_ptr<Proformer> initial = initial_model(config);
  Proformer& model = *initial;
  model.to(device);
  model.train();
  nn::AdamOptions adam;
  adam.beta1 = config.optimizer.beta1;
  adam.beta2 = config.optimizer.beta2;
  adam.eps = config.optimizer.eps;
  adam.weight_decay = config.optimizer.weight_decay;
  adam.decoupled = config.optimizer.name == "adamw";
  nn::Adam optimizer(model.named_parameters(), adam);
  const nn::ClipMode clip_mode = config.optimizer.clip_mode == "global" ? nn::ClipMode::Global : nn::ClipMode::PerParameter;

  BatchOptions batch_options;
  batch_options.batch_size = config.train.batch_size;
  batch_options.seed = config.train.seed;
  batch_options.mask_prob = config.data.mask_prob;
  const int64_t batches_per_epoch = BatchIterator(data, split.train, stats, batch_options).batches_per_epoch();
  int64_t total_steps = config.train.epochs * batches_per_epoch;
  if (config.train.max_steps > 0) total_steps = std::min(total_steps, config.train.max_steps);
  const auto schedule = make_schedule(config, total_steps);

  // ---- resume ----
  TrainState state;
  state.label_stats = stats;
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

  // ---- output: from here on files are written ----
  fs::create_directories(dir);
  const RunLock lock(dir.string());  // one run per output.dir: a second stops here, before writing
  for (const char* name : {"config.yaml", "metrics.csv", "last.model.safetensors", "last.optim.safetensors",
                           "best.model.safetensors"}) {
    std::error_code ignored;  // temporary files a killed run left behind
    fs::remove(dir / (std::string(name) + ".tmp"), ignored);
  }
  {
    AtomicFile config_file((dir / "config.yaml").string());
    config_file.write(to_yaml(config));
    config_file.commit();
  }
  const fs::path metrics_path = dir / "metrics.csv";
  if (state.step > 0 && fs::exists(metrics_path)) rewind_metrics(metrics_path.string(), state.step);
  const bool append = state.step > 0 && fs::exists(metrics_path);
  std::ofstream csv(metrics_path, append ? std::ios::app : std::ios::trunc);
  if (!append) csv << "step,epoch,lr,loss,mse,ce,val_mse,val_pearson,val_spearman,samples_per_s\n";

  std::fprintf(stderr,
               "%s: %ld promoters (%ld dropped: longer than %ld nt), %zu train / %zu validation, "
               "labels mean %.4f std %.4f\n",
               data_source.c_str(), long(data.size()), long(data.dropped_too_long), long(config.model.seq_len),
               split.train.size(), split.val.size(), stats.mean, stats.std);
  if (!config.train.init_from.empty())
    std::fprintf(stderr, "initialised from %s%s\n", config.train.init_from.c_str(),
                 config.train.reset_head ? " (expression head reset)" : "");
  if (resuming)
    std::fprintf(stderr, "resumed from %s at step %ld (epoch %ld, batch %ld)\n", last.c_str(), long(state.step),
                 long(state.next_batch.epoch), long(state.next_batch.batch));
  Generator dropout_gen(config.train.seed + 1, state.dropout_rng_offset);

  auto checkpoint = [&](const std::string& prefix, bool with_optimizer) {
    state.dropout_rng_offset = dropout_gen.offset;
    save_checkpoint(prefix, model, with_optimizer ? &optimizer : nullptr, state, to_yaml(config));
  };

  g_stop_requested = false;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);

  // ---- the loop ----
  Prefetcher batches(BatchIterator(data, split.train, stats, batch_options, state.next_batch));
  Progress progress("train", total_steps, "samples", config.train.log_every);
  TrainSummary summary;
  double loss_sum = 0, mse_sum = 0, ce_sum = 0;
  int64_t loss_count = 0;
  while (state.step < total_steps && !g_stop_requested) {
    Batch batch = batches.next();
    BatchTensors in = to_tensors(batch, device);
    ModelOutput out = model.forward(in.tokens, dropout_gen);
    Loss loss = proformer_loss(out, in.labels_z, in.targets, in.mask);
    model.zero_grad();
    loss.total.backward();
    nn::clip_gradients(model.parameters(), config.optimizer.clip_value, config.optimizer.clip_norm, clip_mode);
    const double lr = schedule->lr(state.step + 1);
    optimizer.step(lr);
    ++state.step;
    state.next_batch = batches.position();

    const double loss_value = loss.total.item();
    PF_CHECK(std::isfinite(loss_value), "train", "loss became ", loss_value, " at step ", state.step,
             " (HINT: lower the learning rate or enable clipping)");
    loss_sum += loss_value;
    mse_sum += loss.mse.item();
    ce_sum += loss.ce.item();
    ++loss_count;
    char status[96];
    std::snprintf(status, sizeof status, "epoch %ld | loss %.4f | lr %.2e", long(batch.position.epoch) + 1, loss_value,
                  lr);
    progress.update(state.step, batch.size, status);

    const bool epoch_end = state.next_batch.batch == 0;
    const bool evaluate = config.train.eval_every > 0 ? state.step % config.train.eval_every == 0 : epoch_end;
    const bool log = state.step % std::max<int64_t>(config.train.log_every, 1) == 0;
    const bool finished = state.step == total_steps || g_stop_requested;
    ValidationResult val{NAN, NAN, NAN, {}};
    if ((evaluate || finished) && !split.val.empty()) {
      val = validate(model, data, split.val, stats, config.train.batch_size);
      summary.last_val_pearson = val.pearson;
      std::fprintf(stderr, "%sstep %ld: validation MSE %.4f, Pearson %.4f, Spearman %.4f\n",
                   isatty(fileno(stderr)) ? "\n" : "", long(state.step), val.mse, val.pearson, val.spearman);
      if (val.pearson > state.best_val_pearson) {
        state.best_val_pearson = val.pearson;
        checkpoint(best, false);
        write_val_predictions((dir / "val_predictions.tsv").string(), data, split.val, stats, val.predictions);
      }
    }
    if (log || !std::isnan(val.pearson) || finished) {
      csv << state.step << ',' << batch.position.epoch + 1 << ',' << lr << ',' << loss_sum / double(loss_count) << ','
          << mse_sum / double(loss_count) << ',' << ce_sum / double(loss_count) << ',' << val.mse << ','
          << val.pearson << ',' << val.spearman << ',' << progress.items_per_second() << '\n'
          << std::flush;
      loss_sum = mse_sum = ce_sum = 0;
      loss_count = 0;
    }
    const bool save = config.output.checkpoint_every > 0 ? state.step % config.output.checkpoint_every == 0 : epoch_end;
    if (save || finished) checkpoint(last, true);
  }
  progress.finish();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  csv.close();  // complete on disk before gnuplot reads it
  if (plot_training(dir.string()))
    std::fprintf(stderr, "plots in %s: learning_curves.png%s\n", dir.c_str(),
                 split.val.empty() ? "" : ", val_scatter.png");
  if (g_stop_requested) std::fprintf(stderr, "stopped at step %ld; resume with --resume\n", long(state.step));
  summary.steps = state.step;
  summary.best_val_pearson = state.best_val_pearson;
  summary.best_checkpoint = best;
  return summary;
}

}  // namespace pf::proformer
