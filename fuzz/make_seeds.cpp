// pf_fuzz_seeds DIR: writes the seed inputs that are not committed files,
// for scripts/fuzz.sh to add to the working corpora:
//   DIR/checkpoint/tiny.model.safetensors   a checkpoint of a very small model
//   DIR/safetensors/*.safetensors           one tensor per dtype, metadata, empty shapes
//   DIR/reader/tokens.cache                 a dataset cache of a few promoters
//   DIR/npz/arrays.npz                      two float32 members, as pf-infer --ism writes them
// Small on purpose: libFuzzer mutates small inputs faster.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "nn/formats/npz.h"
#include "nn/formats/safetensors.h"
#include "proformer/checkpoint.h"
#include "proformer/config.h"
#include "proformer/data/dataset.h"
#include "proformer/model.h"

using namespace pf;
using namespace pf::proformer;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pf_fuzz_seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  try {
    for (const char* target : {"checkpoint", "safetensors", "reader", "npz"}) fs::create_directories(dir / target);

    Config config;
    config.model = {.dim = 4, .blocks = 1, .heads = 1, .head_dim = 4, .ffn_mult = 2, .conv_kernel = 3,
                    .kmer_kernel = 3, .expr_tokens = 2, .seq_len = 8};
    const Proformer model(config.model, 1);
    TrainState state;
    state.label_stats = {11.0, 2.5};
    save_checkpoint((dir / "checkpoint" / "tiny").string(), model, nullptr, state, to_yaml(config));

    const fs::path st = dir / "safetensors";
    nn::save_safetensors((st / "dtypes.safetensors").string(),
                         {{"f32", Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3})},
                          {"f64", Tensor::from_vector(std::vector<double>{0.5, -1}, {2})},
                          {"i32", Tensor::from_vector(std::vector<int32_t>{7}, {1, 1})},
                          {"i64", Tensor::from_vector(std::vector<int64_t>{-3, 9}, {2})},
                          {"u8", Tensor::from_vector(std::vector<uint8_t>{1, 2, 3}, {3})},
                          {"bf16", ops::to(Tensor::from_vector(std::vector<float>{1.5f}, {1}), DType::bf16)},
                          {"f16", ops::to(Tensor::from_vector(std::vector<float>{-2.0f, 0.25f}, {2}), DType::f16)}},
                         {{"format", "seed"}, {"note", "one tensor per dtype"}});
    nn::save_safetensors((st / "empty.safetensors").string(),
                         {{"none", Tensor::from_vector(std::vector<float>{}, {0})},
                          {"scalar", Tensor::from_vector(std::vector<float>{3}, {})}});
    nn::save_safetensors((st / "metadata_only.safetensors").string(), {}, {{"model_config", "{\"dim\":4}"}});

    EncodedDataset data;
    data.seq_len = 8;
    for (const char* promoter : {"ACGT", "TTGACCAN", "G"}) {
      data.tokens.resize(data.tokens.size() + size_t(data.row_tokens()));
      encode_promoter(promoter, data.seq_len, data.tokens.data() + data.tokens.size() - size_t(data.row_tokens()));
      data.labels.push_back(12.5f);
    }
    data.save_cache((dir / "reader" / "tokens.cache").string());

    nn::NpzWriter npz((dir / "npz" / "arrays.npz").string());
    const size_t effects = npz.add_array("effects", {2, 3});  // [rows, 2, 3]
    const size_t ids = npz.add_array("prediction", {});       // [rows]
    const std::vector<float> row = {1, -2, 3.5f, 0, 0.25f, -1}, value = {7};
    for (int r = 0; r < 2; ++r) npz.append(effects, row.data()), npz.append(ids, value.data());
    npz.commit();
  } catch (const Error& e) {
    std::fprintf(stderr, "pf_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
