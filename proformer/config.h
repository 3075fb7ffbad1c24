// The training and inference configuration: every setting of a run, read from
// a YAML file (configs/default.yaml lists them all with comments) and changed
// with `section.key=value` overrides on the command line:
//
//   pf-train configs/demo.yaml train.batch_size=32 model.dropout=0.1
//
// The defaults are the original Proformer recipe at full size. Every section
// and every key is optional; a missing key keeps its default. Mistakes throw
// pf::Error naming the file and line (or the override) and the key, e.g.
//
//   demo.yaml:7: unknown key 'model.dimm' (known keys in 'model': dim, blocks, ...)
//   demo.yaml:3: model.dim: expected an integer, got 'abc'
//   override 'train.batch_size=0': train.batch_size: must be > 0, got 0
#pragma once
#include <cstdint>
#include <string>

#include "core/error.h"  // pf::Error, thrown for every mistake

namespace pf::proformer {

// Every size of the model; the defaults are the original (47,425,543 parameters).
struct ModelConfig {
  int64_t dim = 512;
  int64_t blocks = 4;
  int64_t heads = 8;
  int64_t head_dim = 512;
  int64_t ffn_mult = 4;  // FFN hidden width = ffn_mult * dim (SwiGLU halves it)
  int64_t conv_kernel = 15;
  int64_t kmer_kernel = 10;
  int64_t expr_tokens = 32;
  int64_t seq_len = 100;  // per strand: the model reads 2 * seq_len tokens
  int64_t vocab = 6;      // A C G T N M
  double dropout = 0.0;
  double layer_norm_eps = 1e-6;
  bool operator==(const ModelConfig&) const = default;
};

// The DREAM training data and how it is split and masked.
struct DataConfig {
  std::string train;           // "sequence<TAB>expression" lines, plain or .gz
  double val_fraction = 0.05;  // held out for validation, in [0, 1)
  int64_t split_seed = 42;     // the train/validation split depends only on this
  double mask_prob = 0.05;     // chance that a nucleotide becomes M (training only)
  int64_t max_lines = 0;       // use the first max_lines promoters; 0 = all
  std::string cache;           // encoded-token cache file; "" = none
  bool operator==(const DataConfig&) const = default;
};

// The training loop.
struct TrainConfig {
  int64_t batch_size = 512;      // the global batch: all ranks together (mpirun -np N)
  int64_t micro_batch_size = 0;  // rows per forward on each rank (gradient accumulation); 0 = the rank's whole share
  int64_t epochs = 6;
  int64_t max_steps = 0;       // stop after this many steps; 0 = no limit
  int64_t seed = 1;            // initialisation, shuffling, masking and dropout
  int64_t eval_every = 0;      // validate every this many steps; 0 = once per epoch
  int64_t log_every = 10;      // steps between metrics.csv rows
  int64_t threads = 0;         // CPU threads; 0 = the cores this process may use (threads.h)
  std::string dtype = "f32";   // f32, or mixed precision (autograd/autocast.h): bf16 | f16
  bool tf32 = false;           // f32 runs on CUDA: cuBLAS GEMMs may round inputs to TF32
  int64_t loss_scale_growth_interval = 2000;  // f16: clean steps before the loss scale doubles
  std::string device = "cpu";  // "cpu", "cuda" or "cuda:N"
  double bucket_mb = 25;       // data parallel: gradients are all-reduced in buckets of about this many MB
  std::string init_from;       // checkpoint to start from (same architecture); "" = fresh initialisation
  bool reset_head = false;     // with init_from: re-initialise the expression head (initial_model, trainer.h)
  bool operator==(const TrainConfig&) const = default;
};

// Adam or AdamW and gradient clipping (element-wise to +-clip_value, then to norm clip_norm).
struct OptimizerConfig {
  std::string name = "adam";  // adam | adamw (decoupled weight decay)
  double beta1 = 0.9;
  double beta2 = 0.98;
  double eps = 1e-9;
  double weight_decay = 0.0;
  double clip_value = 0.5;                  // 0 = off
  double clip_norm = 1.0;                   // 0 = off
  std::string clip_mode = "per_parameter";  // norm of each parameter's gradient | global: of all of them
  bool operator==(const OptimizerConfig&) const = default;
};

// The learning-rate schedule.
struct ScheduleConfig {
  std::string name = "noam";  // noam | cosine (warmup, then cosine decay) | constant
  int64_t warmup_steps = 12500;
  double lr = 0.0;          // peak for cosine and constant; noam scales by dim^-0.5 instead
  double min_lr = 0.0;      // cosine: the final learning rate
  int64_t total_steps = 0;  // cosine: its length; 0 = the whole run
  bool operator==(const ScheduleConfig&) const = default;
};

// Where checkpoints, metrics.csv and config.yaml go.
struct OutputConfig {
  std::string dir = "runs/default";
  int64_t checkpoint_every = 0;  // steps between checkpoints; 0 = once per epoch
  bool operator==(const OutputConfig&) const = default;
};

struct Config {
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  OutputConfig output;
  bool operator==(const Config&) const = default;
};

// Reads a YAML config file; throws pf::Error when it is missing or wrong.
Config load_config(const std::string& path);

// Parses YAML text; `source_name` stands for the file in error messages.
Config config_from_yaml_string(const std::string& yaml, const std::string& source_name);

// Applies one "section.key=value" override, e.g. "train.batch_size=64". The
// value is read as in a YAML file and checked the same way.
void apply_override(Config& config, const std::string& key_equals_value);

// The config as YAML, every key included; config_from_yaml_string reads it
// back to an equal Config.
std::string to_yaml(const Config& config);

}  // namespace pf::proformer
