// The ReLU-tie probe of the whole-step CUDA test (relu_ties.h), on the CPU:
// its replay of the forward pass must be the model's own, bit for bit, or
// the pre-activations it keeps clear of zero are not the ones the step uses.
#include <doctest/doctest.h>

#include <algorithm>

#include "cuda_host/relu_ties.h"
#include "test_util.h"

using namespace pf;

namespace {

const proformer::ModelConfig kConfig{.dim = 8, .blocks = 2, .heads = 2, .head_dim = 4, .ffn_mult = 2,
                                     .conv_kernel = 3, .kmer_kernel = 3, .expr_tokens = 2, .seq_len = 8,
                                     .dropout = 0.1};

Tensor tokens(uint64_t seed) {
  Generator gen(seed);
  return ops::to(ops::uniform({3, 2 * kConfig.seq_len}, 0, 5.999, gen), DType::i32);  // [B, S], ids 0..5
}

}  // namespace

TEST_CASE("relu ties: the replay keeps each block's pre-activations and predicts what the model does, bit for bit") {
  proformer::Proformer model(kConfig, 11);
  model.train();
  const test::PreActivations pre = test::conv_pre_activations(model, tokens(1), 5);
  REQUIRE(pre.per_block.size() == 2);
  for (const Tensor& p : pre.per_block) CHECK(p.shape() == Shape{3, 2 + 16, 8});
  Generator dropout(5);
  const proformer::ModelOutput out = model.forward(tokens(1), dropout);
  CHECK(pre.prediction.to_vector<float>() == out.prediction.to_vector<float>());
  // Some pre-activations are negative: the ReLU matters, and the replay kept them before it.
  const std::vector<float> first = pre.per_block[0].to_vector<float>();
  CHECK(std::any_of(first.begin(), first.end(), [](float v) { return v < 0; }));
}

TEST_CASE("relu ties: the chosen seed's pre-activations all lie the margin from zero, and a huge margin finds none") {
  proformer::Proformer model(kConfig, 11);
  model.train();
  CHECK(test::closest_to_zero(test::conv_pre_activations(model, tokens(102), 5)) < 1e-3);  // a near tie
  const uint64_t seed = test::tokens_seed_clear_of_relu_ties(model, tokens, 5, 102, 1e-3);
  CHECK(seed > 102);
  CHECK(test::closest_to_zero(test::conv_pre_activations(model, tokens(seed), 5)) >= 1e-3);
  CHECK(test::contains(test::error_of([&] { test::tokens_seed_clear_of_relu_ties(model, tokens, 5, 100, 10.0, 3); }),
                       "no token seed in [100, 103)"));
}
