// ModelConfig <-> JSON, through one table of fields so that writing, reading
// and the list of known keys cannot disagree.
#include <nlohmann/json.hpp>
#include <variant>

#include "nn/formats/json_input.h"
#include "proformer/model.h"

namespace pf::proformer {

namespace {

struct Field {
  const char* key;
  std::variant<int64_t ModelConfig::*, double ModelConfig::*> member;
};

const Field kFields[] = {
    {"dim", &ModelConfig::dim},
    {"blocks", &ModelConfig::blocks},
    {"heads", &ModelConfig::heads},
    {"head_dim", &ModelConfig::head_dim},
    {"ffn_mult", &ModelConfig::ffn_mult},
    {"conv_kernel", &ModelConfig::conv_kernel},
    {"kmer_kernel", &ModelConfig::kmer_kernel},
    {"expr_tokens", &ModelConfig::expr_tokens},
    {"seq_len", &ModelConfig::seq_len},
    {"vocab", &ModelConfig::vocab},
    {"dropout", &ModelConfig::dropout},
    {"layer_norm_eps", &ModelConfig::layer_norm_eps},
};

}  // namespace

std::string model_config_to_json(const ModelConfig& config) {
  nlohmann::json j;
  for (const Field& f : kFields) std::visit([&](auto member) { j[f.key] = config.*member; }, f.member);
  return j.dump();
}

ModelConfig model_config_from_json(const std::string& text, const std::string& source) {
  // A flat object of numbers.
  const nlohmann::json j = nn::parse_json(text, {"model config", source, "the config", 2, "expected a flat JSON object"});
  PF_CHECK(j.is_object(), "model config", source, ": expected a JSON object");
  ModelConfig config;
  // Not `auto& [key, value]`: clang before 16 cannot capture structured
  // bindings in the lambda below, and the fuzz build (PF_FUZZ) uses clang 14.
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    const Field* field = nullptr;
    for (const Field& f : kFields)
      if (key == f.key) field = &f;
    PF_CHECK(field != nullptr, "model config", source, ": unknown key '", excerpt(key), "'");
    std::visit(
        [&](auto member) {
          using T = std::remove_reference_t<decltype(config.*member)>;
          const bool ok = std::is_integral_v<T> ? value.is_number_integer() : value.is_number();
          PF_CHECK(ok, "model config", source, ": key '", key, "' has the wrong type (", excerpt(value.dump()), ")");
          config.*member = value.get<T>();
          // Sizes and eps must be positive and dropout a fraction, so that a
          // corrupt checkpoint never reaches the layer constructors.
          const bool fraction = key == "dropout";
          const bool valid = fraction ? config.*member >= 0 && config.*member < 1 : config.*member > 0;
          PF_CHECK(valid, "model config", source, ": '", key, "' must be ", fraction ? "in [0, 1)" : "> 0", ", got ",
                   excerpt(value.dump()));
        },
        field->member);
  }
  return config;
}

}  // namespace pf::proformer
