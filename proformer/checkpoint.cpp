#include "proformer/checkpoint.h"

#include <map>

#include "nn/safetensors.h"

namespace pf::proformer {

namespace {

const std::string kModelSuffix = ".model.safetensors";
const std::string kOptimSuffix = ".optim.safetensors";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::map<std::string, std::string> state_metadata(const TrainState& s) {
  return {{"format", kCheckpointFormat},
          {"version", std::to_string(kCheckpointVersion)},
          {"step", std::to_string(s.step)},
          {"next_epoch", std::to_string(s.next_batch.epoch)},
          {"next_batch", std::to_string(s.next_batch.batch)},
          {"dropout_rng_offset", std::to_string(s.dropout_rng_offset)},
          {"best_val_pearson", std::to_string(s.best_val_pearson)},
          {"label_mean", std::to_string(s.label_stats.mean)},
          {"label_std", std::to_string(s.label_stats.std)}};
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
  PF_FAIL("checkpoint", path, ": metadata '", key, "' is not a number: '", text, "'");
}

TrainState read_state(const nn::SafetensorsFile& file, const std::string& path) {
  PF_CHECK(meta(file, path, "format") == kCheckpointFormat, "checkpoint", path, ": not a Proformer checkpoint (format '",
           meta(file, path, "format"), "')");
  const int version = meta_number<int>(file, path, "version");
  PF_CHECK(version == kCheckpointVersion, "checkpoint", path, ": version ", version, ", this build reads version ",
           kCheckpointVersion);
  TrainState s;
  s.step = meta_number<int64_t>(file, path, "step");
  s.next_batch = {meta_number<int64_t>(file, path, "next_epoch"), meta_number<int64_t>(file, path, "next_batch")};
  s.dropout_rng_offset = meta_number<uint64_t>(file, path, "dropout_rng_offset");
  s.best_val_pearson = meta_number<double>(file, path, "best_val_pearson");
  s.label_stats = {meta_number<double>(file, path, "label_mean"), meta_number<double>(file, path, "label_std")};
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
  std::map<std::string, std::string> metadata = state_metadata(state);
  // The optimiser file goes first: a crash between the two renames leaves a
  // model file one save behind it, which load_optimizer detects by the step.
  if (optimizer) nn::save_safetensors(prefix + kOptimSuffix, optimizer->state(), metadata);
  metadata["model_config"] = model_config_to_json(model.config());
  metadata["train_config"] = config_yaml;
  nn::save_safetensors(prefix + kModelSuffix, model.named_parameters(), metadata);
}

LoadedModel load_model(const std::string& path_or_prefix) {
  const std::string path = model_file(path_or_prefix);
  nn::SafetensorsFile file = nn::load_safetensors(path);
  LoadedModel loaded;
  loaded.state = read_state(file, path);
  loaded.config_yaml = file.metadata.count("train_config") ? file.metadata.at("train_config") : "";
  loaded.model = std::make_shared<Proformer>(model_config_from_json(meta(file, path, "model_config"), path), 0);
  copy_weights(file, path, *loaded.model, {});
  loaded.model->eval();
  return loaded;
}

void load_weights(const std::string& path_or_prefix, nn::Module& model, const std::vector<std::string>& skip_prefixes) {
  const std::string path = model_file(path_or_prefix);
  copy_weights(nn::load_safetensors(path), path, model, skip_prefixes);
}

void load_optimizer(const std::string& prefix, nn::Adam& optimizer, const TrainState& state) {
  const std::string path = prefix + kOptimSuffix;
  nn::SafetensorsFile file = nn::load_safetensors(path);
  TrainState saved = read_state(file, path);
  PF_CHECK(saved.step == state.step, "checkpoint", path, ": optimiser state is from step ", saved.step,
           " but the model file is from step ", state.step, " (HINT: the run stopped between writing the two files; ",
           "resume from the other checkpoint)");
  nn::NamedTensors moments(file.tensors.begin(), file.tensors.end());
  optimizer.load_state(moments, state.step);
}

}  // namespace pf::proformer
