// Counts what one full training step (proformer/training/train_step.cpp:
// compute_gradients, then apply_gradients: forward, loss, backward, step
// checks, clipping, Adam) asks of a GPU, without
// a GPU: a counting Backend that runs every call on the CPU is registered as
// the CUDA backend, the model goes to Device::cuda(), and one step after a
// warm-up is counted:
//   backend calls  by kind: each is at least one kernel launch on the CUDA
//                  backend (a few are more: cuda/embedding.cu's sort, the
//                  batched GEMM's pointer kernel), so the total is a floor;
//   host syncs     copies to the host and synchronize() calls;
//   host->device   copies from the host (the batch, the positions);
//   saved          the bytes a forward pass and loss leave alive for
//                  backward (saved_by_forward, below), and their split by
//                  the backend call that made each one;
//   traffic        the bytes each kind of call reads and writes (its tensor
//                  arguments, each once: a floor), at batch B and estimated
//                  at 512 from a second step at 2B, GEMM operands apart.
// Calls and syncs do not depend on the batch size; saved bytes but the
// weights' copies grow with it linearly, so a small batch scaled up estimates
// batch 512 (the figure printed beside it), which would not fit in this
// machine's memory.
//
//   count_launches [--config full|small] [--batch 8] [--dtype bf16|f32] [--threads 2]
#include <omp.h>

#include <cstdio>
#include <map>
#include <string>

#include "autograd/autocast.h"
#include "bench/configs.h"
#include "core/backend.h"
#include "core/cpu/cpu_backend.h"
#include "core/storage.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/step_checks.h"
#include "apps/command_line.h"
#include "proformer/model.h"
#include "proformer/training/train_step.h"

using namespace pf;
using namespace pf::proformer;

namespace {

// The CPU backend behind the Backend interface of a GPU, counting each call.
class CountingBackend final : public Backend {
 public:
  std::map<std::string, int64_t> calls;  // kernel-launching calls by name
  // The bytes each kind of call reads and writes, its tensor arguments each
  // once: a floor on its memory traffic (a GEMM's tiles re-read more).
  std::map<std::string, double> bytes;
  int64_t host_syncs = 0, host_to_device = 0;

  const char* name() const override { return "counting (cpu)"; }
  // Each live storage and the call that made it: a storage belongs to the
  // first call after its allocation (an op allocates its output, then runs).
  struct Made {
    std::string call;
    size_t bytes;
  };
  std::map<void*, Made> live;

  void* allocate(size_t nbytes) override {
    void* ptr = cpu_.allocate(nbytes);
    live[ptr] = {kNoCallYet, nbytes};
    return ptr;
  }
  void deallocate(void* ptr) override {
    live.erase(ptr);
    cpu_.deallocate(ptr);
  }
  void copy_to_host(const void* src, void* dst, size_t nbytes) override {
    ++host_syncs;
    cpu_.copy_to_host(src, dst, nbytes);
  }
  void copy_from_host(const void* src, void* dst, size_t nbytes) override {
    ++host_to_device;
    cpu_.copy_from_host(src, dst, nbytes);
  }
  void synchronize() override {
    ++host_syncs;
    cpu_.synchronize();
  }

  void copy(const Tensor& s, const Tensor& d) override {
    count(s.dtype() != d.dtype() ? std::string("copy, cast ") + dtype_name(s.dtype()) + " -> " + dtype_name(d.dtype())
                                 : std::string("copy, same dtype"), s, d),
        cpu_.copy(s, d);
  }
  void fill(const Tensor& d, double v) override { count("fill", d, v), cpu_.fill(d, v); }
  void random_uniform(const Tensor& d, double lo, double hi, uint64_t seed, uint64_t offset) override {
    count("random_uniform", d, lo, hi, seed, offset), cpu_.random_uniform(d, lo, hi, seed, offset);
  }
  void random_normal(const Tensor& d, double mean, double std, uint64_t seed, uint64_t offset) override {
    count("random_normal", d, mean, std, seed, offset), cpu_.random_normal(d, mean, std, seed, offset);
  }
  void unary(UnaryOp op, const Tensor& x, const Tensor& out) override {
    count(std::string("unary ") + unary_op_name(op), op, x, out), cpu_.unary(op, x, out);
  }
  void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx) override {
    count(std::string("unary_backward ") + unary_op_name(op), op, x, y, dy, dx), cpu_.unary_backward(op, x, y, dy, dx);
  }
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override {
    count(std::string("binary ") + binary_op_name(op), op, a, b, out), cpu_.binary(op, a, b, out);
  }
  void scalar(ScalarOp op, const Tensor& x, double s, const Tensor& out) override {
    count("scalar", op, x, s, out), cpu_.scalar(op, x, s, out);
  }
  void add_scaled(const Tensor& x, const Tensor& y, double alpha, const Tensor& out) override {
    count("add_scaled", x, y, alpha, out), cpu_.add_scaled(x, y, alpha, out);
  }
  void sum(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) override {
    count("sum", x, outer, n, inner, out), cpu_.sum(x, outer, n, inner, out);
  }
  void max(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) override {
    count("max", x, outer, n, inner, out), cpu_.max(x, outer, n, inner, out);
  }
  void gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) override {
    count("gemm", a, b, c, alpha, beta), cpu_.gemm(a, b, c, alpha, beta);
  }
  void linear(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu, const Tensor& out) override {
    count("linear (GEMM + bias epilogue)", x, w, bias, relu, out), cpu_.linear(x, w, bias, relu, out);
  }
  // Counted as one call: on the GPU one cuBLASLt GEMM that sums the bias
  // gradient in its epilogue (cuda/linear.cpp), which the CPU runs as two.
  void linear_weight_grad(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor& dbias) override {
    count("linear weight grad (GEMM + bias-gradient epilogue)", x, dy, dw, dbias),
        cpu_.linear_weight_grad(x, dy, dw, dbias);
  }
  void softmax(const Tensor& x, const Tensor& y, bool log) override {
    count("softmax", x, y, log), cpu_.softmax(x, y, log);
  }
  void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) override {
    count("softmax_backward", y, dy, dx, log), cpu_.softmax_backward(y, dy, dx, log);
  }
  void softmax_backward_recompute(const Tensor& x, const Tensor& dy, const Tensor& dx) override {
    count("softmax_backward_recompute", x, dy, dx), cpu_.softmax_backward_recompute(x, dy, dx);
  }
  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                  const Tensor& mean, const Tensor& rstd) override {
    count("layer_norm", x, gamma, beta, eps, y, mean, rstd), cpu_.layer_norm(x, gamma, beta, eps, y, mean, rstd);
  }
  void layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                           const Tensor& dy, const Tensor& dx_add, const Tensor& dx, const Tensor& dgamma,
                           const Tensor& dbeta) override {
    count("layer_norm_backward", x, gamma, mean, rstd, dy, dx_add, dx, dgamma, dbeta),
        cpu_.layer_norm_backward(x, gamma, mean, rstd, dy, dx_add, dx, dgamma, dbeta);
  }
  void swiglu(const Tensor& x, const Tensor& y) override { count("swiglu", x, y), cpu_.swiglu(x, y); }
  void swiglu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx) override {
    count("swiglu_backward", x, dy, dx), cpu_.swiglu_backward(x, dy, dx);
  }
  void unfold1d(const Tensor& x, int64_t pad_left, const Tensor& cols) override {
    count("unfold1d", x, pad_left, cols), cpu_.unfold1d(x, pad_left, cols);
  }
  void fold1d(const Tensor& dcols, int64_t pad_left, const Tensor& dx) override {
    count("fold1d", dcols, pad_left, dx), cpu_.fold1d(dcols, pad_left, dx);
  }
  void depthwise_conv1d(const Tensor& x, const Tensor& w, int64_t pad_left, const Tensor& y) override {
    count("depthwise_conv1d", x, w, pad_left, y), cpu_.depthwise_conv1d(x, w, pad_left, y);
  }
  void depthwise_conv1d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, int64_t pad_left, const Tensor& dx,
                                 const Tensor& dw) override {
    count("depthwise_conv1d_backward", x, w, dy, pad_left, dx, dw),
        cpu_.depthwise_conv1d_backward(x, w, dy, pad_left, dx, dw);
  }
  void embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) override {
    count("embedding", weight, ids, out), cpu_.embedding(weight, ids, out);
  }
  void embedding_backward(const Tensor& ids, const Tensor& dout, const Tensor& dweight) override {
    count("embedding_backward", ids, dout, dweight), cpu_.embedding_backward(ids, dout, dweight);
  }
  void one_hot(const Tensor& ids, const Tensor& out) override { count("one_hot", ids, out), cpu_.one_hot(ids, out); }
  void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss) override {
    count("cross_entropy", logits, targets, loss), cpu_.cross_entropy(logits, targets, loss);
  }
  void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss,
                              const Tensor& dlogits) override {
    count("cross_entropy_backward", logits, targets, dloss, dlogits),
        cpu_.cross_entropy_backward(logits, targets, dloss, dlogits);
  }
  void dropout_mask(const Tensor& mask, double p, uint64_t seed, uint64_t offset) override {
    count("dropout_mask", mask, p, seed, offset), cpu_.dropout_mask(mask, p, seed, offset);
  }
  void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double beta1, double beta2,
                 double step_size, double eps, double decay, const Tensor& skip) override {
    count("adam_step", param, grad, m, v, beta1, beta2, step_size, eps, decay, skip),
        cpu_.adam_step(param, grad, m, v, beta1, beta2, step_size, eps, decay, skip);
  }
  void segment_sum_squares(const Tensor& x, const Tensor& offsets, const Tensor& out) override {
    count("segment_sum_squares", x, offsets, out), cpu_.segment_sum_squares(x, offsets, out);
  }
  void scale_segments(const Tensor& x, const Tensor& offsets, const Tensor& factor) override {
    count("scale_segments", x, offsets, factor), cpu_.scale_segments(x, offsets, factor);
  }

 private:
  static constexpr const char* kNoCallYet = "(no call yet)";
  // Counts a call and the bytes of its tensor arguments (other arguments add none).
  template <typename... Args>
  int count(const std::string& call, const Args&... args) {
    for (auto& [ptr, made] : live)
      if (made.call == kNoCallYet) made.call = call;
    bytes[call] += (0.0 + ... + bytes_of(args));
    return int(++calls[call]);
  }
  static double bytes_of(const Tensor& t) {
    return t.defined() ? double(t.numel() * int64_t(dtype_size(t.dtype()))) : 0;
  }
  template <typename T>
  static double bytes_of(const T&) {
    return 0;
  }
  Backend& cpu_ = cpu_backend();
};

// A batch of B random promoters, as the trainer's batches look (~5 % masked).
Batch random_batch(int64_t B, int64_t T, Generator& gen) {
  Batch batch;
  batch.size = B;
  batch.row_tokens = int(T);
  const std::vector<double> u = ops::uniform({B * T}, 0, 1, gen, DType::f64).to_vector<double>();
  for (double x : u) {
    batch.targets.push_back(uint8_t(x * 4));
    batch.mask.push_back(x < 0.05 ? 1.0f : 0.0f);
    batch.tokens.push_back(x < 0.05 ? uint8_t(5) : uint8_t(x * 4));
  }
  batch.labels_z = ops::normal({B}, 0, 1, gen).to_vector<float>();
  return batch;
}

// What the forward pass and loss leave alive for backward: the device bytes
// live once the loss exists, above those live before. Under autocast that
// includes the weights' low-precision copies (the GEMMs' backward reads them),
// which do not grow with the batch; the rest does, row by row.
// by_call splits them by the backend call that made each storage.
struct SavedBytes {
  size_t total = 0, weight_copies = 0;
  std::map<std::string, size_t> by_call;
};
SavedBytes saved_by_forward(const Proformer& model, const Batch& batch, DType dtype, Generator& dropout_gen,
                            const CountingBackend& counting) {
  const BatchTensors in = to_tensors(batch, Device::cuda());
  const size_t before = storage_stats(Device::Kind::CUDA).live_bytes;
  std::map<void*, size_t> existing;  // storage -> bytes, live before the forward
  for (const auto& [ptr, made] : counting.live) existing[ptr] = made.bytes;
  autocast::AutocastGuard autocast(dtype);
  const Loss loss = proformer_loss(model.forward(in.tokens, dropout_gen), in.labels_z, in.targets, in.mask, 1.0,
                                   double(masked_count(batch)) + 1);
  SavedBytes saved;
  saved.total = storage_stats(Device::Kind::CUDA).live_bytes - before;
  saved.weight_copies = dtype == DType::f32 ? 0 : size_t(model.parameter_count()) * dtype_size(dtype);
  for (const auto& [ptr, made] : counting.live) {
    const auto old = existing.find(ptr);
    if (old == existing.end() || old->second != made.bytes) saved.by_call[made.call] += made.bytes;
  }
  return saved;
}

// The bytes each kind of call reads and writes in one step at batch B, and
// estimated at batch 512 from the step at 2B (linear in the batch: the
// weights' part stays, the activations' part grows), split into GEMMs and the
// rest, with the time the rest takes at an H100's 3.35 TB/s.
void print_traffic(const std::map<std::string, int64_t>& calls, const std::map<std::string, double>& at_b,
                   const std::map<std::string, double>& at_2b, int64_t B) {
  std::printf("%-34s %8s %10s %12s\n", "bytes read + written, by call", "count", "MB", "GB at 512");
  double gemm = 0, rest = 0;
  for (const auto& [call, bytes] : at_b) {
    const double slope = (at_2b.count(call) ? at_2b.at(call) - bytes : 0) / double(B);  // per row
    const double at_512 = bytes + double(512 - B) * slope;
    (call == "gemm" || call.rfind("linear", 0) == 0 ? gemm : rest) += at_512;
    std::printf("  %-32s %8ld %10.1f %12.2f\n", call.c_str(), long(calls.at(call)), bytes / 1e6, at_512 / 1e9);
  }
  std::printf("%-34s %.1f GB GEMM operands, %.1f GB the rest (%.0f ms at 3.35 TB/s)\n", "traffic at batch 512",
              gemm / 1e9, rest / 1e9, rest / 3.35e12 * 1e3);
}

int main_body(int argc, char** argv) {
  CommandLine cli("count_launches", "count_launches [options]",
                  "Counts the backend calls (kernel launches), host syncs and activation bytes of one training step.");
  cli.option("config", "full or small (configs/demo.yaml's model)", "full");
  cli.option("batch", "batch size (activation bytes are also scaled to 512)", "8");
  cli.option("dtype", "f32 or bf16 (mixed precision)", "bf16");
  cli.option("threads", "CPU threads", "2");
  if (!cli.parse(argc, argv)) return 0;
  omp_set_num_threads(int(cli.get_int("threads", 1)));
  const ModelConfig config = bench::config_named(cli.get("config"), "count_launches");
  const int64_t B = cli.get_int("batch", 1);
  Precision precision;
  precision.dtype = dtype_from_name(cli.get("dtype"));

  CountingBackend counting;
  register_cuda_backend(&counting, 0);
  const Device device = Device::cuda();
  Proformer model(config, 0);
  model.to(device);
  model.train();
  nn::Adam optimizer(model.named_parameters(), {});
  nn::StepChecks checks(model.named_parameters());
  OptimizerConfig clipping;
  Generator gen(1), dropout_gen(2);
  const Batch batch = random_batch(B, 2 * config.seq_len, gen);
  BatchSplit split;
  split.global = split.rows = split.micro = B;

  StepContext context{model, optimizer, split, device, clipping, dropout_gen, nullptr, precision, checks};
  compute_gradients(context, batch, 1);  // the warm-up step
  apply_gradients(context, 1e-4, 1);
  counting.calls.clear();
  counting.bytes.clear();
  counting.host_syncs = counting.host_to_device = 0;
  compute_gradients(context, batch, 2);
  apply_gradients(context, 1e-4, 2);
  const CountingBackend step = counting;  // the counts of this step alone
  // The same step at 2B rows: what grows with the batch, to estimate batch 512.
  const Batch twice = random_batch(2 * B, 2 * config.seq_len, gen);
  BatchSplit split_twice;
  split_twice.global = split_twice.rows = split_twice.micro = 2 * B;
  StepContext context_twice{model, optimizer, split_twice, device, clipping, dropout_gen, nullptr, precision, checks};
  counting.bytes.clear();
  compute_gradients(context_twice, twice, 3);
  apply_gradients(context_twice, 1e-4, 3);
  const std::map<std::string, double> bytes_twice = counting.bytes;
  const SavedBytes saved = saved_by_forward(model, batch, precision.dtype, dropout_gen, counting);

  int64_t total = 0;
  std::printf("one training step, %s model, batch %ld, %s, %ld parameters\n", cli.get("config").c_str(), long(B),
              cli.get("dtype").c_str(), long(model.parameter_count()));
  std::printf("%-34s %8s\n", "backend call", "count");
  for (const auto& [call, n] : step.calls) {
    std::printf("%-34s %8ld\n", call.c_str(), long(n));
    total += n;
  }
  std::printf("%-34s %8ld\n", "backend calls (launches, a floor)", long(total));
  print_traffic(step.calls, step.bytes, bytes_twice, B);
  std::printf("%-34s %8ld\n", "host syncs", long(step.host_syncs));
  std::printf("%-34s %8ld\n", "host->device copies", long(step.host_to_device));
  const double per_row = double(saved.total - saved.weight_copies) / double(B);
  std::printf("%-34s %8.3f GB, of which %.3f GB low-precision weight copies; batch 512: %.1f GB\n",
              "saved for backward", double(saved.total) / 1e9, double(saved.weight_copies) / 1e9,
              (double(saved.weight_copies) + 512 * per_row) / 1e9);
  std::printf("%-34s %8s %6s\n", "saved for backward, by the call", "MB", "share");
  for (const auto& [call, bytes] : saved.by_call)
    std::printf("  %-32s %8.1f %5.1f%%\n", call.c_str(), double(bytes) / 1e6, 100.0 * double(bytes) / double(saved.total));
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("count_launches", main_body, argc, argv); }
