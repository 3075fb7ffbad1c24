#include "proformer/checkpoint.h"

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>

#include "nn/formats/safetensors.h"

namespace pf::proformer {

namespace {

const std::string kModelSuffix = ".model.safetensors";
const std::string kOptimSuffix = ".optim.safetensors";
const std::string kPreviousOptimSuffix = ".optim.prev.safetensors";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The shortest text that reads back to the same double (std::to_string keeps
// only 6 decimals, which would change the label mean/std and the best Pearson
// a resumed run compares against).
std::string exact(double value) {
  char buffer[32];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

std::map<std::string, std::string> state_metadata(const TrainState& s) {
  return {{"format", kCheckpointFormat},
          {"version", std::to_string(kCheckpointVersion)},
          {"step", std::to_string(s.step)},
          {"next_epoch", std::to_string(s.next_batch.epoch)},
          {"next_batch", std::to_string(s.next_batch.batch)},
          {"dropout_rng_offset", std::to_string(s.dropout_rng_offset)},
          {"best_val_pearson", exact(s.best_val_pearson)},
          {"label_mean", exact(s.label_stats.mean)},
          {"label_std", exact(s.label_stats.std)},
          {"loss_scale", exact(s.loss_scaler.scale)},
          {"loss_scale_clean_steps", std::to_string(s.loss_scaler.clean_steps)}};
}

// Reads one metadata value, naming the file and key when it is missing or bad.
std::string meta(const nn::SafetensorsFile& file, const std::string& path, const std::string& key) {
  auto it = file.metadata.find(key);
  PF_CHECK(it != file.metadata.end(), "checkpoint", path, ": metadata lacks '", key, "'");
  return it->second;
}

template <typename T>
T meta_number(const nn::SafetensorsFile& file, const std::string& path, const std::string& key) {
  const std::string text = meta(file, path, key);
  try {
    size_t used = 0;
    T value;
    if constexpr (std::is_floating_point_v<T>)
      value = T(std::stod(text, &used));
    else
      value = T(std::stoll(text, &used));
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  PF_FAIL("checkpoint", path, ": metadata '", key, "' is not a number: '", excerpt(text), "'");
}

TrainState read_state(const nn::SafetensorsFile& file, const std::string& path) {
  PF_CHECK(meta(file, path, "format") == kCheckpointFormat, "checkpoint", path, ": not a Proformer checkpoint (format '",
           excerpt(meta(file, path, "format")), "')");
  const int version = meta_number<int>(file, path, "version");
  PF_CHECK(version == kCheckpointVersion, "checkpoint", path, ": version ", version, ", this build reads version ",
           kCheckpointVersion);
  TrainState s;
  s.step = meta_number<int64_t>(file, path, "step");
  s.next_batch = {meta_number<int64_t>(file, path, "next_epoch"), meta_number<int64_t>(file, path, "next_batch")};
  s.dropout_rng_offset = meta_number<uint64_t>(file, path, "dropout_rng_offset");
  s.best_val_pearson = meta_number<double>(file, path, "best_val_pearson");
  s.label_stats = {meta_number<double>(file, path, "label_mean"), meta_number<double>(file, path, "label_std")};
  if (file.metadata.count("loss_scale"))  // absent in checkpoints from before mixed precision
    s.loss_scaler = {meta_number<double>(file, path, "loss_scale"),
                     meta_number<int64_t>(file, path, "loss_scale_clean_steps")};
  return s;
}

// Copies the file's tensors into the module's parameters of the same names.
void copy_weights(const nn::SafetensorsFile& file, const std::string& path, nn::Module& model,
                  const std::vector<std::string>& skip_prefixes) {
  NoGradGuard no_grad;
  for (auto& [name, p] : model.named_parameters()) {
    bool skip = false;
    for (const std::string& prefix : skip_prefixes) skip |= name.rfind(prefix, 0) == 0;
    if (skip) continue;
    auto it = file.tensors.find(name);
    PF_CHECK(it != file.tensors.end(), "checkpoint", path, ": no tensor '", name, "'");
    PF_CHECK(it->second.shape() == p.shape(), "checkpoint", path, ": '", name, "' has shape ",
             shape_str(it->second.shape()), " but the model expects ", shape_str(p.shape()));
    ops::copy_(p, ops::to(it->second, p.dtype()));
  }
}

}  // namespace

std::string model_file(const std::string& prefix) {
  return ends_with(prefix, kModelSuffix) ? prefix : prefix + kModelSuffix;
}

void save_checkpoint(const std::string& prefix, const Proformer& model, const nn::Adam* optimizer,
                     const TrainState& state, const std::string& config_yaml) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> metadata = state_metadata(state);
  // The optimiser file goes first and the model file last, each atomically.
  // A crash between the two leaves a new optimiser file next to the old model
  // file, so the old optimiser file is kept as <prefix>.optim.prev until the
  // new model file is in place: load_optimizer falls back to it.
  const std::string optim = prefix + kOptimSuffix, previous = prefix + kPreviousOptimSuffix;
  if (optimizer) {
    std::error_code error;
    if (fs::exists(optim)) fs::rename(optim, previous, error);
    PF_CHECK(!error, "checkpoint", optim, ": cannot rename it to ", previous, " (", error.message(), ")");
    // Adam's own count (its bias correction) trails the step count when f16
    // steps were skipped by the loss scaler.
    std::map<std::string, std::string> optim_metadata = metadata;
    optim_metadata["optimizer_steps"] = std::to_string(optimizer->steps_taken());
    nn::save_safetensors(optim, optimizer->state(), optim_metadata);
  }
  metadata["model_config"] = model_config_to_json(model.config());
  metadata["train_config"] = config_yaml;
  nn::save_safetensors(prefix + kModelSuffix, model.named_parameters(), metadata);
  if (optimizer) {
    std::error_code ignored;  // a leftover is harmless: the next save replaces it
    fs::remove(previous, ignored);
  }
}

LoadedModel load_model(const std::string& path_or_prefix) {
  const std::string path = model_file(path_or_prefix);
  nn::SafetensorsFile file = nn::load_safetensors(path);
  LoadedModel loaded;
  loaded.state = read_state(file, path);
  loaded.config_yaml = file.metadata.count("train_config") ? file.metadata.at("train_config") : "";
  const ModelConfig config = model_config_from_json(meta(file, path, "model_config"), path);
  // Every weight is in the file, so a model_config that asks for more
  // parameters than the file holds values is corrupt: reject it before the
  // model is built, or a few digits added to a size would allocate gigabytes.
  int64_t values = 0;
  for (const auto& [name, tensor] : file.tensors) values += tensor.numel();
  const int64_t parameters = model_parameter_count(config);
  PF_CHECK(parameters <= values, "checkpoint", path, ": model_config describes a model of ",
           parameters == INT64_MAX ? std::string("over 2^63") : std::to_string(parameters),
           " parameters but the file holds ", values, " values (corrupt model_config?)");
  loaded.model = std::make_shared<Proformer>(config, 0);
  copy_weights(file, path, *loaded.model, {});
  loaded.model->eval();
  return loaded;
}

void load_weights(const std::string& path_or_prefix, nn::Module& model, const std::vector<std::string>& skip_prefixes) {
  const std::string path = model_file(path_or_prefix);
  copy_weights(nn::load_safetensors(path), path, model, skip_prefixes);
}

void load_optimizer(const std::string& prefix, nn::Adam& optimizer, const TrainState& state) {
  const std::string path = prefix + kOptimSuffix, previous = prefix + kPreviousOptimSuffix;
  // The files that may hold the moments of the model file's step: the
  // optimiser file and, when a run stopped while it wrote a checkpoint, the
  // previous one (see save_checkpoint).
  std::vector<std::string> candidates;
  for (const std::string& file : {path, previous})
    if (std::filesystem::exists(file)) candidates.push_back(file);
  if (candidates.empty()) candidates.push_back(path);  // loading it reports it missing
  std::string steps;  // of the files that do not match
  for (const std::string& candidate : candidates) {
    const nn::SafetensorsFile file = nn::load_safetensors(candidate);
    const TrainState saved = read_state(file, candidate);
    if (saved.step == state.step) {
      const int64_t updates = file.metadata.count("optimizer_steps")  // absent before mixed precision: = step
                                  ? meta_number<int64_t>(file, candidate, "optimizer_steps")
                                  : state.step;
      optimizer.load_state(nn::NamedTensors(file.tensors.begin(), file.tensors.end()), updates);
      return;
    }
    steps += (steps.empty() ? "" : " and ") + std::to_string(saved.step);
  }
  PF_FAIL("checkpoint", path, ": optimiser state is from step ", steps, " but the model file is from step ", state.step,
          " (HINT: the two files come from different runs; resume from a matching pair or start afresh)");
}

}  // namespace pf::proformer
