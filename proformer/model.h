// Proformer (DREAM 2022, team Unlock_DNA): a Macaron-style transformer that
// predicts promoter expression from DNA tokens. See docs/model.md, "The model".
//
//   tokens [B, S] (S = 2 * seq_len: forward strand, then reverse complement)
//     -> one-hot [B, S, 6] -> k-mer Conv1d (kernel 10, pad 4|5) [B, S, D]
//     -> + position embedding [S, D] + strand embedding (0 | 1) [S, D]
//   32 expression tokens (Dense(1 -> D) of a zero input = its bias) [B, E, D]
//   x = concat(expression tokens, sequence tokens) [B, E + S, D]
//   4 x Block:  x += 0.5 FFN1(x);  x += Conv(x);  x = LN(x);  x += MHA(x);  x += 0.5 FFN2(x)
//   prediction = mean over the E tokens of Linear(D -> 1)   [B]
//   logits     = Linear(D -> 6) on the S sequence tokens    [B, S, 6]
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/layers/attention.h"
#include "nn/layers/conv.h"
#include "nn/layers/embedding.h"
#include "nn/layers/feed_forward.h"
#include "proformer/config.h"

namespace pf::proformer {

// JSON form of ModelConfig (stored in checkpoint metadata and golden files).
std::string model_config_to_json(const ModelConfig& config);
// Parses model_config_to_json's output; missing keys keep their defaults,
// unknown keys, wrong types and values out of range (sizes <= 0, dropout
// outside [0, 1)) throw pf::Error naming `source` and the key.
ModelConfig model_config_from_json(const std::string& json, const std::string& source);

// The number of parameters of Proformer(config), from the sizes alone, without
// building (and allocating) the model. Huge sizes give INT64_MAX rather than
// an overflow. load_model checks it against the file before it builds the
// model, so that a corrupt model_config cannot ask for gigabytes.
int64_t model_parameter_count(const ModelConfig& config);

// LayerNorm -> depthwise conv ('same') -> pointwise -> bias -> ReLU -> dropout.
class ConvModule : public nn::SeparableConv1d {
 public:
  ConvModule(const ModelConfig& config, Generator& gen);
  Tensor forward(const Tensor& x, Generator& dropout_gen) const;  // [B, T, D] -> same

  std::shared_ptr<nn::LayerNorm> norm;
  double dropout_p;
};

class Block : public nn::Module {
 public:
  Block(const ModelConfig& config, Generator& gen);
  Tensor forward(const Tensor& x, Generator& dropout_gen) const;  // [B, T, D] -> same

  std::shared_ptr<nn::FeedForward> ffn1;
  std::shared_ptr<ConvModule> conv;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::MultiHeadAttention> attn;
  std::shared_ptr<nn::FeedForward> ffn2;
};

struct ModelOutput {
  Tensor prediction;  // [B] expression in z-space
  Tensor logits;      // [B, S, vocab] masked-token logits
};

class Proformer : public nn::Module {
 public:
  // Builds the model with Keras-default initialisation drawn from seed.
  Proformer(const ModelConfig& config, uint64_t seed);
  // tokens [B, S] i32 with S = 2 * seq_len. dropout_gen is used in train mode only.
  ModelOutput forward(const Tensor& tokens, Generator& dropout_gen) const;
  // The same from the one-hot tokens [B, S, vocab] (the parameters' dtype and
  // device), which may be relaxed (any floats) and require grad: attributions
  // (inference/attribution.h) differentiate the prediction with respect to it.
  ModelOutput forward_one_hot(const Tensor& one_hot, Generator& dropout_gen) const;
  // Inference: no dropout, no graph.
  ModelOutput predict(const Tensor& tokens) const;
  const ModelConfig& config() const { return config_; }

  std::shared_ptr<nn::Conv1d> kmer;
  std::shared_ptr<nn::Embedding> pos_embedding, strand_embedding;
  std::shared_ptr<nn::Linear> expr_tokens;
  std::vector<std::shared_ptr<Block>> blocks;
  std::shared_ptr<nn::Linear> expr_head, mlm_head;

 private:
  ModelConfig config_;
  Tensor positions_;  // [S] i32: 0 .. S-1
  Tensor strands_;    // [S] i32: 0 for the forward half, 1 for the reverse
};

struct Loss {
  Tensor total;  // mse + ce, the scalar to differentiate
  Tensor mse;    // mean((prediction - label_z)^2)
  Tensor ce;     // sum(mask * CE(logits, targets)) / (sum(mask) + 1)
};

// labels_z [B] f32; targets [B, S] i32 (the unmasked tokens); mask [B, S] f32 (1 where masked);
// masked = sum(mask), counted where the batch was made (on the host), so the
// loss needs no read-back from the device.
Loss proformer_loss(const ModelOutput& output, const Tensor& labels_z, const Tensor& targets, const Tensor& mask,
                    double masked);

// The loss of a part of a larger batch (a micro-batch, or a rank's share):
// mse * mse_weight (the part's share of the batch's rows) and
// sum(mask * CE) / ce_denominator (the batch's sum(mask) + 1), so that the
// parts' losses, and their gradients, add up to the whole batch's.
Loss proformer_loss(const ModelOutput& output, const Tensor& labels_z, const Tensor& targets, const Tensor& mask,
                    double mse_weight, double ce_denominator);

}  // namespace pf::proformer
