// Train a tiny Proformer from code, not from a YAML file: the training step
// that pf-train runs (proformer/training/trainer.cpp), written out, on the first 400
// promoters of a DREAM training file. Saves the model as a checkpoint that
// pf-infer and example_score_variants can load.
//
// Usage: example_train_tiny DATA.txt OUT_PREFIX
// Exits with 1 unless the mean loss of the last 10 steps is below that of the first 10.
#include <cstdio>
#include <string>

#include "nn/optim/optimizer.h"          // nn::Adam, nn::clip_gradients
#include "proformer/data/batches.h"     // BatchIterator: shuffled, masked batches
#include "proformer/checkpoint.h"  // save_checkpoint
#include "proformer/data/dataset.h"     // EncodedDataset, split_train_val, label_stats
#include "proformer/model.h"       // Proformer, proformer_loss

using namespace pf;
using namespace pf::proformer;

namespace {

// A model small enough to train in seconds: dim 16, 1 block, 2 heads of 8.
ModelConfig tiny_model() {
  ModelConfig config;
  config.dim = 16;
  config.blocks = 1;
  config.heads = 2;
  config.head_dim = 8;
  config.ffn_mult = 2;
  config.conv_kernel = 5;
  config.expr_tokens = 4;
  return config;
}

// One optimiser step on one batch: forward, loss, backward, clip, Adam.
Loss train_on_batch(Proformer& model, nn::Adam& optimizer, const Batch& b, Generator& dropout_gen) {
  const Shape shape = {b.size, int64_t(b.row_tokens)};
  const Tensor tokens = Tensor::from_vector(b.tokens, shape);    // [B, S] with masked tokens
  const Tensor targets = Tensor::from_vector(b.targets, shape);  // [B, S] the original tokens
  const Tensor mask = Tensor::from_vector(b.mask, shape);        // [B, S] 1 where masked
  const Tensor labels = Tensor::from_vector(b.labels_z, {b.size});

  ModelOutput out = model.forward(tokens, dropout_gen);  // prediction [B], logits [B, S, 6]
  Loss loss = proformer_loss(out, labels, targets, mask, double(masked_count(b)));
  model.zero_grad();
  loss.total.backward();
  nn::clip_gradients(optimizer.parameters(), 0.5, 1.0, nn::ClipMode::PerParameter);
  optimizer.step(1e-3);
  return loss;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA.txt OUT_PREFIX\n", argv[0]);
    return 2;
  }
  const ModelConfig config = tiny_model();
  EncodedDataset data = EncodedDataset::from_tsv(argv[1], int(config.seq_len));
  data.tokens.resize(size_t(400 * data.row_tokens()));  // the first 400 promoters
  data.labels.resize(400);
  const TrainValSplit split = split_train_val(data.size(), 0.1, /*seed=*/0);
  const LabelStats stats = label_stats(data.labels, split.train);  // labels are z-scored with these

  Proformer model(config, /*seed=*/1);
  model.train();
  nn::Adam optimizer(model.named_parameters(), {});  // beta1 0.9, beta2 0.98, eps 1e-9
  BatchOptions options;
  options.batch_size = 16;
  BatchIterator batches(data, split.train, stats, options);
  Generator dropout_gen(2);

  double first = 0, last = 0;
  for (int step = 1; step <= 60; ++step) {
    const Loss loss = train_on_batch(model, optimizer, batches.next(), dropout_gen);
    if (step <= 10) first += loss.total.item() / 10;
    if (step > 50) last += loss.total.item() / 10;
    if (step % 10 == 0) std::printf("step %2d  loss %.4f  (mse %.4f, ce %.4f)\n", step, loss.total.item(),
                                    loss.mse.item(), loss.ce.item());
  }
  TrainState state;
  state.step = 60;
  state.label_stats = stats;  // predictions are mapped back to the label scale with these
  save_checkpoint(argv[2], model, nullptr, state, "");
  std::printf("saved %s; mean loss of steps 1-10 %.4f, of steps 51-60 %.4f\n", model_file(argv[2]).c_str(), first,
              last);
  return last < first ? 0 : 1;
}
