#include "proformer/model.h"

#include <cstdint>
#include <initializer_list>

namespace pf::proformer {

ConvModule::ConvModule(const ModelConfig& c, Generator& gen)
    : nn::SeparableConv1d(c.dim, c.conv_kernel, gen), dropout_p(c.dropout) {
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(c.dim, c.layer_norm_eps));
}

Tensor ConvModule::forward(const Tensor& x, Generator& dropout_gen) const {
  Tensor h = nn::SeparableConv1d::forward(norm->forward(x), /*relu=*/true);  // ReLU fused into the pointwise GEMM
  return dropout(h, dropout_p, is_training(), dropout_gen);
}

Block::Block(const ModelConfig& c, Generator& gen) {
  const int64_t hidden = c.ffn_mult * c.dim;
  ffn1 = register_module("ffn1", std::make_shared<nn::FeedForward>(c.dim, hidden, c.dropout, c.layer_norm_eps, gen));
  conv = register_module("conv", std::make_shared<ConvModule>(c, gen));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(c.dim, c.layer_norm_eps));
  attn = register_module("attn", std::make_shared<nn::MultiHeadAttention>(c.dim, c.heads, c.head_dim, gen));
  ffn2 = register_module("ffn2", std::make_shared<nn::FeedForward>(c.dim, hidden, c.dropout, c.layer_norm_eps, gen));
}

Tensor Block::forward(const Tensor& x0, Generator& dropout_gen) const {
  Tensor x = add_scaled(x0, ffn1->forward(x0, dropout_gen), 0.5);  // x0 + 0.5 * FFN1(x0), one pass
  x = add(x, conv->forward(x, dropout_gen));
  x = norm->forward(x);  // normalises the residual stream itself
  x = add(x, attn->forward(x));
  return add_scaled(x, ffn2->forward(x, dropout_gen), 0.5);
}

int64_t model_parameter_count(const ModelConfig& c) {
  // Saturating arithmetic: the sizes may come from a corrupt file.
  auto mul = [](int64_t a, int64_t b) {
    int64_t product;
    return __builtin_mul_overflow(a, b, &product) ? INT64_MAX : product;
  };
  auto sum = [](std::initializer_list<int64_t> terms) {
    int64_t total = 0;
    for (int64_t term : terms)
      if (__builtin_add_overflow(total, term, &total)) return INT64_MAX;
    return total;
  };
  // Mirrors the constructors below and in nn/ (weights, then biases).
  const int64_t D = c.dim, V = c.vocab, inner = mul(c.heads, c.head_dim), hidden = mul(c.ffn_mult, D);
  const int64_t layer_norm = mul(2, D);
  const int64_t ffn = sum({layer_norm, mul(D, hidden), mul(hidden / 2, D)});    // norm, up, down
  const int64_t conv = sum({mul(c.conv_kernel, D), mul(D, D), D, layer_norm});  // depthwise, pointwise, bias, norm
  const int64_t attn = sum({mul(4, mul(D, inner)), mul(3, inner), D});          // q k v o, their biases
  const int64_t block = sum({ffn, conv, layer_norm, attn, ffn});
  return sum({mul(mul(c.kmer_kernel, V), D), D,      // kmer
              mul(mul(2, c.seq_len), D), mul(2, D),  // position and strand embeddings
              mul(2, D),                             // expression tokens: Linear(1, D) with bias
              mul(c.blocks, block),                  // the blocks
              sum({D, 1}), sum({mul(D, V), V})});    // expression head, MLM head
}

Proformer::Proformer(const ModelConfig& c, uint64_t seed) : config_(c) {
  Generator gen(seed);
  const int64_t S = 2 * c.seq_len;
  const int64_t pad_left = (c.kmer_kernel - 1) / 2;  // 4 left, 5 right for kernel 10: S positions out
  kmer = register_module("kmer", std::make_shared<nn::Conv1d>(c.vocab, c.dim, c.kmer_kernel, pad_left,
                                                               c.kmer_kernel - 1 - pad_left, gen));
  pos_embedding = register_module("pos_embedding", std::make_shared<nn::Embedding>(S, c.dim, gen));
  strand_embedding = register_module("strand_embedding", std::make_shared<nn::Embedding>(2, c.dim, gen));
  expr_tokens = register_module("expr_tokens", std::make_shared<nn::Linear>(1, c.dim, true, gen));
  for (int64_t i = 0; i < c.blocks; ++i)
    blocks.push_back(register_module("blocks." + std::to_string(i), std::make_shared<Block>(c, gen)));
  expr_head = register_module("expr_head", std::make_shared<nn::Linear>(c.dim, 1, true, gen));
  mlm_head = register_module("mlm_head", std::make_shared<nn::Linear>(c.dim, c.vocab, true, gen));

  std::vector<int32_t> positions(static_cast<size_t>(S)), strands(static_cast<size_t>(S));
  for (int64_t t = 0; t < S; ++t) {
    positions[size_t(t)] = int32_t(t);
    strands[size_t(t)] = t < c.seq_len ? 0 : 1;
  }
  positions_ = Tensor::from_vector(positions, {S});
  strands_ = Tensor::from_vector(strands, {S});
}

ModelOutput Proformer::forward(const Tensor& tokens, Generator& dropout_gen) const {
  const int64_t S = 2 * config_.seq_len;
  PF_CHECK(tokens.dim() == 2 && tokens.size(1) == S, "Proformer", "tokens must be [B, ", S, "], got ",
           describe(tokens));
  Tensor ids = ops::to(ops::to(tokens, DType::i32), kmer->weight.device());
  return forward_one_hot(ops::one_hot(ids, config_.vocab, kmer->weight.dtype()), dropout_gen);  // [B, S, vocab]
}

ModelOutput Proformer::forward_one_hot(const Tensor& one_hot, Generator& dropout_gen) const {
  const ModelConfig& c = config_;
  const int64_t B = one_hot.size(0), S = 2 * c.seq_len, E = c.expr_tokens;
  PF_CHECK(one_hot.dim() == 3 && one_hot.size(1) == S && one_hot.size(2) == c.vocab, "Proformer",
           "one-hot tokens must be [B, ", S, ", ", c.vocab, "], got ", describe(one_hot));
  const DType dtype = kmer->weight.dtype();
  const Device device = kmer->weight.device();

  // Sequence tokens: k-mer convolution of the one-hot input plus embeddings.
  Tensor seq = kmer->forward(one_hot);  // [B, S, D]
  seq = add(seq, add(pos_embedding->forward(ops::to(positions_, device)),
                     strand_embedding->forward(ops::to(strands_, device))));  // + [S, D]

  // Expression tokens: Dense(1 -> D) of zeros, i.e. its bias, kept as a layer
  // so the parameters match the original one to one.
  Tensor expr = expr_tokens->forward(Tensor::zeros({B, E, 1}, dtype, device));  // [B, E, D]
  expr = dropout(expr, c.dropout, is_training(), dropout_gen);

  Tensor x = concat({expr, seq}, 1);  // [B, E + S, D]
  for (const auto& block : blocks) x = block->forward(x, dropout_gen);

  ModelOutput out;
  // Both heads as one GEMM over all E + S tokens (linear_concat: one read of
  // x, one gradient for it), their outputs narrowed: x narrowed first would
  // be copied (the view is not contiguous) and its gradient written into
  // zeros of x's shape. The extra rows cost a GEMM with N = 1 + vocab.
  const Tensor heads = linear_concat(x, {expr_head->weight, mlm_head->weight},
                                     {expr_head->bias, mlm_head->bias});  // [B, E + S, 1 + vocab]
  Tensor per_token = reshape(narrow(narrow(heads, 2, 0, 1), 1, 0, E), {B, E});  // [B, E]
  out.prediction = mean(per_token, {1});                                         // [B]
  out.logits = narrow(narrow(heads, 2, 1, c.vocab), 1, E, S);                   // [B, S, vocab]
  return out;
}

ModelOutput Proformer::predict(const Tensor& tokens) const {
  NoGradGuard no_grad;
  Generator unused;
  PF_CHECK(!is_training(), "Proformer::predict", "the model is in train mode (HINT: call eval() first)");
  return forward(tokens, unused);
}

Loss proformer_loss(const ModelOutput& output, const Tensor& labels_z, const Tensor& targets, const Tensor& mask,
                    double masked) {
  return proformer_loss(output, labels_z, targets, mask, 1.0, masked + 1.0);
}

Loss proformer_loss(const ModelOutput& output, const Tensor& labels_z, const Tensor& targets, const Tensor& mask,
                    double mse_weight, double ce_denominator) {
  Loss loss;
  loss.mse = mse_loss(output.prediction, labels_z);
  if (mse_weight != 1.0) loss.mse = mul(loss.mse, mse_weight);
  Tensor token_ce = cross_entropy(output.logits, ops::to(targets, DType::i32));  // [B, S]
  loss.ce = mul(sum(mul(token_ce, mask)), 1.0 / ce_denominator);  // the mask carries no gradient
  loss.total = add(loss.mse, loss.ce);
  return loss;
}

}  // namespace pf::proformer
