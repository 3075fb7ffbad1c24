// The model's structure: parameter count and names at the default config,
// output shapes and determinism on a small config.
#include <doctest/doctest.h>

#include "proformer/model.h"

using namespace pf;
using namespace pf::proformer;

TEST_CASE("model: default config has the original 47,425,543 parameters") {
  ModelConfig config;
  Proformer model(config, 0);
  CHECK(model.parameter_count() == 47425543);
  int64_t ffn1 = 0, conv = 0, norm = 0, attn = 0, block = 0;
  for (auto& [name, p] : model.named_parameters()) {
    if (name.rfind("blocks.0.", 0) != 0) continue;
    block += p.numel();
    if (name.rfind("blocks.0.ffn1.", 0) == 0) ffn1 += p.numel();
    if (name.rfind("blocks.0.conv.", 0) == 0) conv += p.numel();
    if (name.rfind("blocks.0.norm.", 0) == 0) norm += p.numel();
    if (name.rfind("blocks.0.attn.", 0) == 0) attn += p.numel();
  }
  CHECK(block == 11821568);
  CHECK(ffn1 == 1573888);
  CHECK(conv == 271360);
  CHECK(norm == 1024);
  CHECK(attn == 8401408);
  CHECK(model.parameter("blocks.3.attn.q.weight").shape() == Shape{512, 4096});
  CHECK(model.parameter("kmer.weight").shape() == Shape{10, 6, 512});
  CHECK(model.parameter("blocks.1.conv.depthwise.weight").shape() == Shape{15, 512});
}

TEST_CASE("model: model_parameter_count matches the built model without building it") {
  CHECK(model_parameter_count(ModelConfig{}) == 47425543);
  // Small configs with odd sizes (an odd FFN width halves down), several blocks.
  for (const ModelConfig& config :
       {ModelConfig{.dim = 4, .blocks = 1, .heads = 1, .head_dim = 4, .ffn_mult = 2, .conv_kernel = 3,
                    .kmer_kernel = 3, .expr_tokens = 2, .seq_len = 8},
        ModelConfig{.dim = 5, .blocks = 3, .heads = 3, .head_dim = 2, .ffn_mult = 1, .conv_kernel = 1,
                    .kmer_kernel = 1, .expr_tokens = 1, .seq_len = 1, .vocab = 7}}) {
    CHECK(model_parameter_count(config) == Proformer(config, 0).parameter_count());
  }
  // Sizes from a corrupt checkpoint saturate instead of overflowing.
  CHECK(model_parameter_count(ModelConfig{.seq_len = int64_t(1) << 62}) == INT64_MAX);
  CHECK(model_parameter_count(ModelConfig{.dim = int64_t(1) << 40}) == INT64_MAX);
}

TEST_CASE("model: small config forward shapes and seeded initialisation") {
  ModelConfig config;
  config.dim = 16;
  config.blocks = 1;
  config.heads = 2;
  config.head_dim = 8;
  Proformer a(config, 7), b(config, 7), c(config, 8);
  CHECK(a.parameter("kmer.weight").to_vector<float>() == b.parameter("kmer.weight").to_vector<float>());
  CHECK(a.parameter("kmer.weight").to_vector<float>() != c.parameter("kmer.weight").to_vector<float>());
  a.eval();
  std::vector<int32_t> tokens(2 * 200, 4);
  for (size_t i = 0; i < tokens.size(); i += 3) tokens[i] = int32_t(i % 4);
  ModelOutput out = a.predict(Tensor::from_vector(tokens, {2, 200}));
  CHECK(out.prediction.shape() == Shape{2});
  CHECK(out.logits.shape() == Shape{2, 200, 6});
}
