// Config from YAML, overrides and YAML output, all driven by one table of
// keys (keys() below). Each row names a key, the Config field it sets and the
// rule its value must follow; loading, overrides, to_yaml and the "known
// keys" list in error messages all walk that table, so a new setting is one
// new row (plus its field in config.h and its line in configs/default.yaml).
#include "proformer/config.h"

#include "core/device.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/error.h"

namespace pf::proformer {

namespace {

// ---- the key table ----

// One field of a Config, of one of the four value types.
using FieldPtr = std::variant<int64_t*, double*, bool*, std::string*>;

// What a value must satisfy beyond having the right type.
enum class Rule {
  any,
  positive,      // > 0
  non_negative,  // >= 0
  fraction,      // in [0, 1)
  not_empty,     // a non-empty string
  one_of,        // one of Key::choices
  device,        // cpu, cuda or cuda:N
};

struct Key {
  const char* section;
  const char* name;
  std::function<FieldPtr(Config&)> field;  // where the value lives in a Config
  Rule rule = Rule::any;
  std::vector<std::string> choices = {};  // the allowed strings of Rule::one_of
  std::string path() const { return std::string(section) + "." + name; }
};

// The accessor of config.*section.*member, e.g. field(&Config::model, &ModelConfig::dim).
template <typename Section, typename T>
std::function<FieldPtr(Config&)> field(Section Config::*section, T Section::*member) {
  return [section, member](Config& config) -> FieldPtr { return &(config.*section.*member); };
}

// Every key, in the order of configs/default.yaml and of to_yaml's output.
const std::vector<Key>& keys() {
  using C = Config;
  // clang-format off
  static const std::vector<Key> table = {
      {"model", "dim", field(&C::model, &ModelConfig::dim), Rule::positive},
      {"model", "blocks", field(&C::model, &ModelConfig::blocks), Rule::positive},
      {"model", "heads", field(&C::model, &ModelConfig::heads), Rule::positive},
      {"model", "head_dim", field(&C::model, &ModelConfig::head_dim), Rule::positive},
      {"model", "ffn_mult", field(&C::model, &ModelConfig::ffn_mult), Rule::positive},
      {"model", "conv_kernel", field(&C::model, &ModelConfig::conv_kernel), Rule::positive},
      {"model", "kmer_kernel", field(&C::model, &ModelConfig::kmer_kernel), Rule::positive},
      {"model", "expr_tokens", field(&C::model, &ModelConfig::expr_tokens), Rule::positive},
      {"model", "seq_len", field(&C::model, &ModelConfig::seq_len), Rule::positive},
      {"model", "vocab", field(&C::model, &ModelConfig::vocab), Rule::positive},
      {"model", "dropout", field(&C::model, &ModelConfig::dropout), Rule::fraction},
      {"model", "layer_norm_eps", field(&C::model, &ModelConfig::layer_norm_eps), Rule::positive},

      {"data", "train", field(&C::data, &DataConfig::train)},
      {"data", "val_fraction", field(&C::data, &DataConfig::val_fraction), Rule::fraction},
      {"data", "split_seed", field(&C::data, &DataConfig::split_seed), Rule::non_negative},
      {"data", "mask_prob", field(&C::data, &DataConfig::mask_prob), Rule::fraction},
      {"data", "max_lines", field(&C::data, &DataConfig::max_lines), Rule::non_negative},
      {"data", "cache", field(&C::data, &DataConfig::cache)},

      {"train", "batch_size", field(&C::train, &TrainConfig::batch_size), Rule::positive},
      {"train", "micro_batch_size", field(&C::train, &TrainConfig::micro_batch_size), Rule::non_negative},
      {"train", "epochs", field(&C::train, &TrainConfig::epochs), Rule::positive},
      {"train", "max_steps", field(&C::train, &TrainConfig::max_steps), Rule::non_negative},
      {"train", "seed", field(&C::train, &TrainConfig::seed), Rule::non_negative},
      {"train", "eval_every", field(&C::train, &TrainConfig::eval_every), Rule::non_negative},
      {"train", "log_every", field(&C::train, &TrainConfig::log_every), Rule::positive},
      {"train", "threads", field(&C::train, &TrainConfig::threads), Rule::non_negative},
      {"train", "dtype", field(&C::train, &TrainConfig::dtype), Rule::one_of, {"f32", "bf16", "f16"}},
      {"train", "tf32", field(&C::train, &TrainConfig::tf32)},
      {"train", "loss_scale_growth_interval", field(&C::train, &TrainConfig::loss_scale_growth_interval),
       Rule::positive},
      {"train", "device", field(&C::train, &TrainConfig::device), Rule::device},
      {"train", "bucket_mb", field(&C::train, &TrainConfig::bucket_mb), Rule::positive},
      {"train", "init_from", field(&C::train, &TrainConfig::init_from)},
      {"train", "reset_head", field(&C::train, &TrainConfig::reset_head)},

      {"optimizer", "name", field(&C::optimizer, &OptimizerConfig::name), Rule::one_of, {"adam", "adamw"}},
      {"optimizer", "beta1", field(&C::optimizer, &OptimizerConfig::beta1), Rule::fraction},
      {"optimizer", "beta2", field(&C::optimizer, &OptimizerConfig::beta2), Rule::fraction},
      {"optimizer", "eps", field(&C::optimizer, &OptimizerConfig::eps), Rule::positive},
      {"optimizer", "weight_decay", field(&C::optimizer, &OptimizerConfig::weight_decay), Rule::non_negative},
      {"optimizer", "clip_value", field(&C::optimizer, &OptimizerConfig::clip_value), Rule::non_negative},
      {"optimizer", "clip_norm", field(&C::optimizer, &OptimizerConfig::clip_norm), Rule::non_negative},
      {"optimizer", "clip_mode", field(&C::optimizer, &OptimizerConfig::clip_mode), Rule::one_of,
       {"per_parameter", "global"}},

      {"schedule", "name", field(&C::schedule, &ScheduleConfig::name), Rule::one_of, {"noam", "cosine", "constant"}},
      {"schedule", "warmup_steps", field(&C::schedule, &ScheduleConfig::warmup_steps), Rule::non_negative},
      {"schedule", "lr", field(&C::schedule, &ScheduleConfig::lr), Rule::non_negative},
      {"schedule", "min_lr", field(&C::schedule, &ScheduleConfig::min_lr), Rule::non_negative},
      {"schedule", "total_steps", field(&C::schedule, &ScheduleConfig::total_steps), Rule::non_negative},

      {"output", "dir", field(&C::output, &OutputConfig::dir), Rule::not_empty},
      {"output", "checkpoint_every", field(&C::output, &OutputConfig::checkpoint_every), Rule::non_negative},
  };
  // clang-format on
  return table;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// ---- looking keys up ----

// The section names in table order.
std::vector<std::string> section_names() {
  std::vector<std::string> names;
  for (const Key& key : keys())
    if (names.empty() || names.back() != key.section) names.push_back(key.section);
  return names;
}

// `where` is "<file>:<line>" or "override '<text>'".
void check_section(const std::string& section, const std::string& where) {
  const std::vector<std::string> names = section_names();
  PF_CHECK(std::find(names.begin(), names.end(), section) != names.end(), "config", where, ": unknown section '",
           excerpt(section), "' (known sections: ", join(names), ")");
}

const Key& find_key(const std::string& section, const std::string& name, const std::string& where) {
  check_section(section, where);
  std::vector<std::string> known;
  for (const Key& key : keys()) {
    if (key.section != section) continue;
    if (key.name == name) return key;
    known.push_back(key.name);
  }
  PF_FAIL("config", where, ": unknown key '", excerpt(section + "." + name), "' (known keys in '", section, "': ", join(known),
          ")");
}

// ---- reading values ----

// The node as error messages quote it: 'abc', or what kind of node it is.
std::string describe(const YAML::Node& node) {
  // Appended, not "'" + excerpt(...) + "'": GCC 12 warns (-Wrestrict, a false
  // positive) on the inlined insert at the front of a temporary string.
  if (node.IsScalar()) return std::string("'").append(excerpt(node.Scalar())).append("'");
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

template <typename T>
const char* expected_type() {
  if constexpr (std::is_same_v<T, int64_t>)
    return "an integer";
  else if constexpr (std::is_same_v<T, double>)
    return "a number";
  else if constexpr (std::is_same_v<T, bool>)
    return "true or false";
  else
    return "a string";
}

// The node's value as T, or nothing when it is not one (YAML's rules: 0x10 is
// an integer, yes/no are booleans, an empty value is an empty string).
template <typename T>
std::optional<T> parse(const YAML::Node& node) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (node.IsNull()) return std::string();
  }
  T value;
  if (!node.IsScalar() || !YAML::convert<T>::decode(node, value)) return std::nullopt;
  if constexpr (std::is_same_v<T, double>) {
    if (!std::isfinite(value)) return std::nullopt;
  }
  return value;
}

bool is_device(const std::string& s) {
  try {
    parse_device(s);  // the one parser, shared with pf-infer --device
    return true;
  } catch (const Error&) {
    return false;
  }
}

// What the key's rule asks of `value` when it is not met; "" when it is.
template <typename T>
std::string violation(const Key& key, const T& value) {
  if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
    if (key.rule == Rule::positive && !(value > 0)) return "must be > 0";
    if (key.rule == Rule::non_negative && !(value >= 0)) return "must be >= 0";
    if (key.rule == Rule::fraction && !(value >= 0 && value < 1)) return "must be in [0, 1)";
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (key.rule == Rule::not_empty && value.empty()) return "must not be empty";
    if (key.rule == Rule::one_of && std::find(key.choices.begin(), key.choices.end(), value) == key.choices.end())
      return "must be one of " + join(key.choices);
    if (key.rule == Rule::device && !is_device(value)) return "must be cpu, cuda or cuda:N";
  }
  return "";
}

// Sets the key's field of `config` from `node` once its type and rule are checked.
void set(Config& config, const Key& key, const YAML::Node& node, const std::string& where) {
  const std::string context = where + ": " + key.path();
  std::visit(
      [&](auto* field) {
        using T = std::remove_pointer_t<decltype(field)>;
        const std::optional<T> value = parse<T>(node);
        PF_CHECK(value.has_value(), "config", context, ": expected ", expected_type<T>(), ", got ", describe(node));
        const std::string problem = violation(key, *value);
        PF_CHECK(problem.empty(), "config", context, ": ", problem, ", got ", describe(node));
        *field = *value;
      },
      key.field(config));
}

// ---- writing values ----

std::string yaml_value(int64_t value) { return std::to_string(value); }
std::string yaml_value(bool value) { return value ? "true" : "false"; }

// The shortest text that reads back to the same double, with a '.' so that
// every YAML reader sees a float: 0.0, 0.98, 1.0e-09.
std::string yaml_value(double value) {
  char buffer[32];
  std::string text(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
  if (text.find('.') == std::string::npos && std::isfinite(value))
    text.insert(std::min(text.find('e'), text.size()), ".0");
  return text;
}

// Double-quoted, with \ " and control characters escaped.
std::string yaml_value(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\x%02x", unsigned(c));
      out += escape;
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Config config_from_yaml_string(const std::string& yaml, const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    PF_FAIL("config", source_name, ":", e.mark.line + 1, ": YAML syntax error: ", excerpt(e.msg, 200));
  }
  Config config;
  if (root.IsNull()) return config;  // an empty file: all defaults

  auto where = [&](const YAML::Node& node) { return source_name + ":" + std::to_string(node.Mark().line + 1); };
  std::map<std::string, std::string> seen;  // section or key path -> where it was first set
  auto once = [&](const std::string& path, const std::string& here) {
    const auto [first, fresh] = seen.emplace(path, here);
    PF_CHECK(fresh, "config", here, ": '", path, "' appears twice (first at ", first->second, ")");
  };

  PF_CHECK(root.IsMap(), "config", where(root), ": expected sections (", join(section_names()),
           ") at the top level, got ", describe(root));
  for (const auto& section : root) {
    const std::string name = section.first.Scalar();
    check_section(name, where(section.first));
    once(name, where(section.first));
    if (section.second.IsNull()) continue;  // a section with nothing under it
    PF_CHECK(section.second.IsMap(), "config", where(section.first), ": section '", excerpt(name),
             "' must hold 'key: value' lines, got ", describe(section.second));
    for (const auto& entry : section.second) {
      const Key& key = find_key(name, entry.first.Scalar(), where(entry.first));
      once(key.path(), where(entry.first));
      set(config, key, entry.second, where(entry.first));
    }
  }
  return config;
}

Config load_config(const std::string& path) {
  PF_CHECK(!std::filesystem::is_directory(path), "config", path, ": is a directory, not a config file");
  std::ifstream in(path);
  PF_CHECK(in.is_open(), "config", path, ": cannot open (", std::strerror(errno), ")");
  return config_from_yaml_string(std::string(std::istreambuf_iterator<char>(in), {}), path);
}

void apply_override(Config& config, const std::string& key_equals_value) {
  const std::string where = "override '" + excerpt(key_equals_value) + "'";
  const size_t equals = key_equals_value.find('=');
  const size_t dot = key_equals_value.find('.');
  PF_CHECK(equals != std::string::npos && dot < equals, "config", where,
           ": expected section.key=value, e.g. train.batch_size=64");
  const Key& key = find_key(key_equals_value.substr(0, dot), key_equals_value.substr(dot + 1, equals - dot - 1), where);
  set(config, key, YAML::Node(key_equals_value.substr(equals + 1)), where);
}

std::string to_yaml(const Config& config) {
  Config copy = config;  // the table's accessors take a mutable Config
  std::string out;
  const char* section = "";
  for (const Key& key : keys()) {
    if (std::strcmp(key.section, section) != 0) out += std::string(key.section) + ":\n";
    section = key.section;
    out += "  " + std::string(key.name) + ": " +
           std::visit([](auto* field) { return yaml_value(*field); }, key.field(copy)) + "\n";
  }
  return out;
}

}  // namespace pf::proformer
