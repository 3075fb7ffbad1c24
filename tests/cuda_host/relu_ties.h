// The conv modules' ReLU pre-activations of a Proformer's training forward
// pass, on the CPU: what the whole-step CUDA test (tests/cuda) needs to keep
// clear of ReLU ties. A pre-activation within about 1e-6 of zero can land on
// either side of it on two devices whose sums round differently; the ReLU
// then passes the gradient on one and not the other, and a whole row of the
// pointwise weight's gradient (and all upstream of it) moves by far more
// than rounding. Such a tie is not a bug in either backend, so the test picks
// inputs that have none (tokens_seed_clear_of_relu_ties) instead of loosening
// every bound to let a tie through.
//
// conv_pre_activations replays Proformer::forward_one_hot and Block::forward
// (proformer/model.cpp) step by step with the same dropout stream, keeping
// each block's pointwise output before its ReLU. The replay also returns the
// prediction, which the CPU test (test_relu_ties.cpp) checks against the
// model's own forward pass bit for bit, so a change to the model that the
// replay misses fails there.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "autograd/functional.h"
#include "proformer/model.h"

namespace pf::test {

struct PreActivations {
  std::vector<Tensor> per_block;  // [B, E + S, D] each: pointwise + bias, before the ReLU
  Tensor prediction;              // [B], to check the replay against Proformer::forward
};

// tokens [B, S] i32 on the CPU; the model in train mode on the CPU; a fresh
// Generator(dropout_seed) is the dropout stream, as the test gives the model.
inline PreActivations conv_pre_activations(const proformer::Proformer& model, const Tensor& tokens,
                                           uint64_t dropout_seed) {
  NoGradGuard no_grad;
  const proformer::ModelConfig& c = model.config();
  const int64_t B = tokens.size(0), S = 2 * c.seq_len, E = c.expr_tokens;
  const DType dtype = model.kmer->weight.dtype();
  Generator gen(dropout_seed);
  std::vector<int32_t> positions(size_t(S), 0), strands(size_t(S), 0);
  for (int64_t t = 0; t < S; ++t) positions[size_t(t)] = int32_t(t), strands[size_t(t)] = t < c.seq_len ? 0 : 1;

  Tensor seq = model.kmer->forward(ops::one_hot(tokens, c.vocab, dtype));  // [B, S, D]
  seq = add(seq, add(model.pos_embedding->forward(Tensor::from_vector(positions, {S})),
                     model.strand_embedding->forward(Tensor::from_vector(strands, {S}))));
  Tensor expr = model.expr_tokens->forward(Tensor::zeros({B, E, 1}, dtype));  // [B, E, D]
  expr = dropout(expr, c.dropout, true, gen);
  Tensor x = concat({expr, seq}, 1);  // [B, E + S, D]

  PreActivations out;
  for (const auto& block : model.blocks) {
    x = add_scaled(x, block->ffn1->forward(x, gen), 0.5);
    const Tensor pre = block->conv->nn::SeparableConv1d::forward(block->conv->norm->forward(x), /*relu=*/false);
    out.per_block.push_back(pre);
    x = add(x, dropout(relu(pre), block->conv->dropout_p, true, gen));
    x = block->norm->forward(x);
    x = add(x, block->attn->forward(x));
    x = add_scaled(x, block->ffn2->forward(x, gen), 0.5);
  }
  // The heads as the model computes them, one linear_concat over every token (the expression head's
  // product, written into its column, need not have the bits of that head alone on E rows with oneDNN).
  const Tensor heads = linear_concat(x, {model.expr_head->weight, model.mlm_head->weight},
                                     {model.expr_head->bias, model.mlm_head->bias});  // [B, E + S, 1 + vocab]
  out.prediction = mean(reshape(narrow(narrow(heads, 2, 0, 1), 1, 0, E), {B, E}), {1});
  return out;
}

// The smallest nonzero |pre-activation| over every block. Exact zeros are
// no tie: they come from rows that are zero throughout (the expression
// tokens, whose Dense bias starts at zero, and the depthwise conv's outputs
// that see only them), which every device computes exactly, and the ReLU's
// gradient is 0 at 0 on both.
inline double closest_to_zero(const PreActivations& pre) {
  double closest = std::numeric_limits<double>::infinity();
  for (const Tensor& p : pre.per_block)
    for (double v : p.to_vector<double>())
      if (v != 0) closest = std::min(closest, std::abs(v));
  return closest;
}

// The first of first_seed, first_seed + 1, ... whose tokens ([B, S], ids
// 0..5 drawn by make_tokens(seed) on the CPU) leave every pre-activation at
// least `margin` from zero; pf::Error after `tries` seeds.
template <typename MakeTokens>
uint64_t tokens_seed_clear_of_relu_ties(const proformer::Proformer& model, MakeTokens&& make_tokens,
                                        uint64_t dropout_seed, uint64_t first_seed, double margin, int tries = 32) {
  for (uint64_t seed = first_seed; seed < first_seed + uint64_t(tries); ++seed)
    if (closest_to_zero(conv_pre_activations(model, make_tokens(seed), dropout_seed)) >= margin) return seed;
  PF_FAIL("relu ties", "no token seed in [", first_seed, ", ", first_seed + uint64_t(tries),
          ") keeps every ReLU pre-activation ", margin, " from zero");
}

}  // namespace pf::test
