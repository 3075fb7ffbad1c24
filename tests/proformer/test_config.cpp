// Config: the defaults, the two shipped config files, key=value overrides,
// the to_yaml round trip, and a pf::Error naming file:line and key for every
// kind of mistake.
#include <doctest/doctest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "proformer/config.h"

using namespace pf;
using namespace pf::proformer;

namespace {

// The "section.key" paths of a YAML document.
std::set<std::string> key_paths(const YAML::Node& root) {
  std::set<std::string> paths;
  for (const auto& section : root)
    for (const auto& entry : section.second) paths.insert(section.first.Scalar() + "." + entry.first.Scalar());
  return paths;
}

}  // namespace

TEST_CASE("config: the defaults are the original recipe") {
  const Config c;
  const ModelConfig& m = c.model;
  CHECK(m.dim == 512);
  CHECK(m.blocks == 4);
  CHECK(m.heads == 8);
  CHECK(m.head_dim == 512);
  CHECK(m.ffn_mult == 4);
  CHECK(m.conv_kernel == 15);
  CHECK(m.kmer_kernel == 10);
  CHECK(m.expr_tokens == 32);
  CHECK(m.seq_len == 100);
  CHECK(m.vocab == 6);
  CHECK(m.dropout == 0.0);
  CHECK(m.layer_norm_eps == 1e-6);
  CHECK(c.data.train.empty());
  CHECK(c.data.val_fraction == 0.05);
  CHECK(c.data.split_seed == 42);
  CHECK(c.data.mask_prob == 0.05);
  CHECK(c.data.max_lines == 0);
  CHECK(c.data.cache.empty());
  CHECK(c.train.batch_size == 512);
  CHECK(c.train.epochs == 6);
  CHECK(c.train.max_steps == 0);
  CHECK(c.train.seed == 1);
  CHECK(c.train.eval_every == 0);
  CHECK(c.train.log_every == 10);
  CHECK(c.train.threads == 0);
  CHECK(c.train.dtype == "f32");
  CHECK(c.train.device == "cpu");
  CHECK(c.train.init_from.empty());
  CHECK(!c.train.reset_head);
  CHECK(c.optimizer.name == "adam");
  CHECK(c.optimizer.beta1 == 0.9);
  CHECK(c.optimizer.beta2 == 0.98);
  CHECK(c.optimizer.eps == 1e-9);
  CHECK(c.optimizer.weight_decay == 0.0);
  CHECK(c.optimizer.clip_value == 0.5);
  CHECK(c.optimizer.clip_norm == 1.0);
  CHECK(c.optimizer.clip_mode == "per_parameter");
  CHECK(c.schedule.name == "noam");
  CHECK(c.schedule.warmup_steps == 12500);
  CHECK(c.schedule.lr == 0.0);
  CHECK(c.schedule.min_lr == 0.0);
  CHECK(c.schedule.total_steps == 0);
  CHECK(c.output.dir == "runs/default");
  CHECK(c.output.checkpoint_every == 0);

  // Every section and key is optional.
  CHECK(config_from_yaml_string("", "empty.yaml") == c);
  CHECK(config_from_yaml_string("# only a comment\n", "comment.yaml") == c);
  CHECK(config_from_yaml_string("model:\n", "empty_section.yaml") == c);
  const Config partial = config_from_yaml_string("train:\n  epochs: 2\n", "partial.yaml");
  CHECK(partial.train.epochs == 2);
  CHECK(partial.train.batch_size == 512);
  CHECK(partial.model == c.model);
}

TEST_CASE("config: configs/default.yaml, demo.yaml and ensemble.yaml load") {
  const std::string dir = PF_SOURCE_DIR "/configs/";
  CHECK(load_config(dir + "default.yaml") == Config{});
  // default.yaml spells out every key.
  CHECK(key_paths(YAML::LoadFile(dir + "default.yaml")) == key_paths(YAML::Load(to_yaml(Config{}))));

  const Config demo = load_config(dir + "demo.yaml");
  CHECK(demo.model.dim == 128);
  CHECK(demo.model.blocks == 2);
  CHECK(demo.model.heads == 4);
  CHECK(demo.model.head_dim == 128);
  CHECK(demo.model.seq_len == 100);  // keys not listed keep their defaults
  CHECK(demo.data.train == "data/demo/demo_train.txt");
  CHECK(demo.train.batch_size == 64);
  CHECK(demo.train.epochs == 3);
  CHECK(demo.schedule.name == "cosine");
  CHECK(demo.schedule.warmup_steps == 30);
  CHECK(demo.output.dir == "runs/demo");

  // An ensemble member is the demo model with its own seed and output folder.
  Config member = load_config(dir + "ensemble.yaml");
  CHECK(member.output.dir == "runs/ensemble/member1");
  member.output.dir = demo.output.dir;
  CHECK(to_yaml(member) == to_yaml(demo));
}

TEST_CASE("config: key=value overrides") {
  Config c;
  apply_override(c, "train.batch_size=64");
  apply_override(c, "model.dropout=0.1");
  apply_override(c, "train.reset_head=true");
  apply_override(c, "train.device=cuda:1");
  apply_override(c, "schedule.lr=3e-4");
  apply_override(c, "data.train=/data/dream train.txt.gz");
  apply_override(c, "output.dir=runs/a=b");  // the value is everything after the first '='
  apply_override(c, "data.cache=");          // an empty string
  CHECK(c.train.batch_size == 64);
  CHECK(c.model.dropout == 0.1);
  CHECK(c.train.reset_head);
  CHECK(c.train.device == "cuda:1");
  CHECK(c.schedule.lr == 3e-4);
  CHECK(c.data.train == "/data/dream train.txt.gz");
  CHECK(c.output.dir == "runs/a=b");
  CHECK(c.data.cache.empty());

  // Overrides are checked like file entries; the message quotes the override.
  const Config before = c;
  const std::pair<const char*, const char*> mistakes[] = {
      {"train.batch_size=abc", "override 'train.batch_size=abc': train.batch_size: expected an integer, got 'abc'"},
      {"train.batch_size=0", "override 'train.batch_size=0': train.batch_size: must be > 0, got '0'"},
      {"train.device=gpu", "override 'train.device=gpu': train.device: must be cpu, cuda or cuda:N, got 'gpu'"},
      {"model.dimm=3", "override 'model.dimm=3': unknown key 'model.dimm' (known keys in 'model': dim, blocks, "},
      {"modle.dim=3",
       "override 'modle.dim=3': unknown section 'modle' (known sections: model, data, train, optimizer, schedule, "
       "output)"},
      {"batch_size=64", "override 'batch_size=64': expected section.key=value"},
      {"train.batch_size", "override 'train.batch_size': expected section.key=value"},
  };
  for (const auto& [text, message] : mistakes) {
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(apply_override(c, text), doctest::Contains(message), Error);
  }
  CHECK(c == before);  // a rejected override changes nothing
}

TEST_CASE("config: to_yaml round trip") {
  Config c;
  c.model.dim = 96;
  c.model.dropout = 0.1;
  c.model.layer_norm_eps = 1e-5;
  c.data.train = "dir with space/it's \"quoted\" \\ #not: a comment.txt";
  c.data.cache = "line\nbreak\ttab";
  c.data.val_fraction = 0.0;
  c.train.reset_head = true;
  c.train.device = "cuda:0";
  c.train.dtype = "bf16";
  c.optimizer.name = "adamw";
  c.optimizer.eps = 1e-8;
  c.optimizer.weight_decay = 0.01;
  c.schedule.name = "cosine";
  c.schedule.lr = 3.95e-4;
  c.schedule.min_lr = 1.0 / 3.0;  // needs all 17 digits
  c.schedule.total_steps = 1000;
  c.output.dir = "runs/x";
  const std::string yaml = to_yaml(c);
  CHECK(config_from_yaml_string(yaml, "round_trip.yaml") == c);
  CHECK(config_from_yaml_string(to_yaml(Config{}), "defaults.yaml") == Config{});
  // Floats always have a '.', so that other YAML readers see floats too.
  CHECK(yaml.find("  dropout: 0.1\n") != std::string::npos);
  CHECK(yaml.find("  layer_norm_eps: 1.0e-05\n") != std::string::npos);
  CHECK(yaml.find("  val_fraction: 0.0\n") != std::string::npos);
  CHECK(yaml.rfind("model:\n  dim: 96\n", 0) == 0);
}

TEST_CASE("config: every mistake is a pf::Error naming file:line and the key") {
  const std::pair<const char*, const char*> mistakes[] = {
      {"model:\n  dim: 128\n\n# a comment\n\n\n  dimm: 3\n",
       "demo.yaml:7: unknown key 'model.dimm' (known keys in 'model': dim, blocks, heads, head_dim, ffn_mult, "
       "conv_kernel, kmer_kernel, expr_tokens, seq_len, vocab, dropout, layer_norm_eps)"},
      {"modle:\n  dim: 3\n",
       "demo.yaml:1: unknown section 'modle' (known sections: model, data, train, optimizer, schedule, output)"},
      {"# sizes\nmodel:\n  dim: abc\n", "demo.yaml:3: model.dim: expected an integer, got 'abc'"},
      {"model:\n  dim: 1.5\n", "demo.yaml:2: model.dim: expected an integer, got '1.5'"},
      {"model:\n  dim: [1, 2]\n", "demo.yaml:2: model.dim: expected an integer, got a list"},
      {"model:\n  dropout: high\n", "demo.yaml:2: model.dropout: expected a number, got 'high'"},
      {"model:\n  dropout: .nan\n", "demo.yaml:2: model.dropout: expected a number, got '.nan'"},
      {"train:\n  reset_head: maybe\n", "demo.yaml:2: train.reset_head: expected true or false, got 'maybe'"},
      {"train:\n  batch_size: 0\n", "demo.yaml:2: train.batch_size: must be > 0, got '0'"},
      {"schedule:\n  lr: -0.001\n", "demo.yaml:2: schedule.lr: must be >= 0, got '-0.001'"},
      {"model:\n  dropout: 1.0\n", "demo.yaml:2: model.dropout: must be in [0, 1), got '1.0'"},
      {"model:\n  heads: 0\n", "demo.yaml:2: model.heads: must be > 0, got '0'"},
      {"model:\n  seq_len: -5\n", "demo.yaml:2: model.seq_len: must be > 0, got '-5'"},
      {"data:\n  val_fraction: 1\n", "demo.yaml:2: data.val_fraction: must be in [0, 1), got '1'"},
      {"optimizer:\n  name: sgd\n", "demo.yaml:2: optimizer.name: must be one of adam, adamw, got 'sgd'"},
      {"optimizer:\n  clip_mode: layer\n",
       "demo.yaml:2: optimizer.clip_mode: must be one of per_parameter, global, got 'layer'"},
      {"schedule:\n  name: linear\n",
       "demo.yaml:2: schedule.name: must be one of noam, cosine, constant, got 'linear'"},
      {"train:\n  dtype: f8\n", "demo.yaml:2: train.dtype: must be one of f32, bf16, f16, got 'f8'"},
      {"train:\n  device: gpu\n", "demo.yaml:2: train.device: must be cpu, cuda or cuda:N, got 'gpu'"},
      {"output:\n  dir: \"\"\n", "demo.yaml:2: output.dir: must not be empty, got ''"},
      {"model:\n  dim: 64\n  dim: 128\n", "demo.yaml:3: 'model.dim' appears twice (first at demo.yaml:2)"},
      {"model: 5\n", "demo.yaml:1: section 'model' must hold 'key: value' lines, got '5'"},
      {"- model\n",
       "demo.yaml:1: expected sections (model, data, train, optimizer, schedule, output) at the top level, got a list"},
      {"model:\n  dim: 64\n  heads: [4,\n", "demo.yaml:4: YAML syntax error: "},
  };
  for (const auto& [yaml, message] : mistakes) {
    CAPTURE(yaml);
    CHECK_THROWS_WITH_AS(config_from_yaml_string(yaml, "demo.yaml"), doctest::Contains(message), Error);
  }
}

TEST_CASE("config: file errors name the path") {
  namespace fs = std::filesystem;
  const std::string missing = "/nonexistent/config.yaml";
  CHECK_THROWS_WITH_AS(load_config(missing), doctest::Contains("/nonexistent/config.yaml: cannot open"), Error);
  const std::string dir = PF_SOURCE_DIR "/configs";
  CHECK_THROWS_WITH_AS(load_config(dir), doctest::Contains((dir + ": is a directory").c_str()), Error);

  const std::string path =
      (fs::temp_directory_path() / ("pf_test_config_" + std::to_string(getpid()) + ".yaml")).string();
  std::ofstream(path) << "train:\n  epochs: 3\n  batch_size: lots\n";
  CHECK_THROWS_WITH_AS(load_config(path),
                       doctest::Contains((path + ":3: train.batch_size: expected an integer, got 'lots'").c_str()),
                       Error);
  fs::remove(path);
}
