// nn::FlatParameters and the optimiser tail over it: the flat buffers hold
// what the separate tensors held, the segment kernels agree with the plain
// per-parameter ops they replace, and Adam over the flat buffer is Adam over
// each parameter, bit for bit, with every parameter 64-aligned in the buffer.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "core/backend.h"
#include "nn/optim/flat_parameters.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/step_checks.h"
#include "proformer/model.h"
#include "test_util.h"

using namespace pf;
using pf::test::contains;
using pf::test::error_of;

namespace {

// Three parameters of different shapes with random values and gradients.
struct ThreeParams {
  Tensor w, b, e;
  explicit ThreeParams(uint64_t seed) {
    Generator gen(seed);
    w = ops::uniform({4, 3}, -1, 1, gen).set_requires_grad(true);
    b = ops::uniform({3}, -1, 1, gen).set_requires_grad(true);
    e = ops::uniform({2, 5}, -1, 1, gen).set_requires_grad(true);
  }
  nn::NamedTensors named() const { return {{"w", w}, {"b", b}, {"e", e}}; }
  void set_grads(uint64_t seed) const {
    Generator gen(seed);
    for (const Tensor& p : {w, b, e}) p.set_grad(ops::uniform(p.shape(), -2, 2, gen));
  }
};

std::vector<float> values(const Tensor& t) { return ops::contiguous(t).to_vector<float>(); }

}  // namespace

TEST_CASE("flat parameters: each parameter becomes a view of one buffer, values and gradients kept") {
  ThreeParams params(1);
  const Tensor held = params.b;  // a handle held elsewhere, as a module holds its parameters
  const std::vector<float> w0 = values(params.w), b0 = values(params.b), e0 = values(params.e);
  params.set_grads(2);
  const std::vector<float> grad_b = values(params.b.grad());
  nn::FlatParameters flat(params.named());
  CHECK(flat.values().numel() == 3 * 64);  // each parameter padded to 64 elements
  CHECK(held.storage() == flat.values().storage());
  CHECK(held.offset() == 64);
  CHECK(values(params.w) == w0);
  CHECK(values(held) == b0);
  CHECK(values(params.e) == e0);
  CHECK(values(flat.view(flat.values(), 2)) == e0);

  const Tensor& grads = flat.gather_gradients();
  CHECK(flat.all_have_gradients());
  CHECK(values(ops::narrow(grads, 0, 64, 3)) == grad_b);
  CHECK(held.grad().storage() == grads.storage());  // .grad now views its place
  ops::fill_(params.w, 7.0);                          // writing a parameter writes the buffer
  CHECK(values(ops::narrow(flat.values(), 0, 0, 12)) == std::vector<float>(12, 7.0f));
}

TEST_CASE("flat parameters: a missing gradient is zeros and keeps none, a replaced parameter is named") {
  ThreeParams params(3);
  nn::FlatParameters flat(params.named());
  params.set_grads(4);
  params.e.set_grad(Tensor());
  const Tensor& grads = flat.gather_gradients();
  CHECK_FALSE(flat.all_have_gradients());
  CHECK(values(ops::narrow(grads, 0, 128, 10)) == std::vector<float>(10, 0.0f));
  CHECK_FALSE(params.e.grad().defined());

  nn::replace_data(params.b, Tensor::zeros({3}));  // e.g. moved after the optimiser was built
  const std::string error = error_of([&] { flat.gather_gradients(); });
  CHECK(contains(error, "parameter 'b' no longer views the optimiser's flat buffer"));
  CHECK(contains(error, "HINT"));
}

TEST_CASE("flat parameters: parameters of two dtypes are refused, naming the one that differs") {
  Tensor a = Tensor::zeros({2}).set_requires_grad(true);
  Tensor b = Tensor::zeros({2}, DType::f64).set_requires_grad(true);
  const std::string error = error_of([&] { nn::FlatParameters flat({{"a", a}, {"b", b}}); });
  CHECK(contains(error, "'b' is f64[2]"));
}

TEST_CASE("flat parameters: sum_squares and scale agree with the per-parameter ops they replace") {
  for (DType dtype : {DType::f32, DType::f64, DType::bf16}) {
    CAPTURE(dtype);
    ThreeParams params(5);
    nn::NamedTensors named = params.named();
    for (auto& [name, p] : named) {
      p = ops::to(p.detach(), dtype).set_requires_grad(true);
      Generator gen(6);
      p.set_grad(ops::to(ops::uniform(p.shape(), -3, 3, gen), dtype));
    }
    nn::FlatParameters flat(named);
    const Tensor& grads = flat.gather_gradients();
    const std::vector<double> squares = flat.sum_squares(grads).to_vector<double>();
    const std::vector<double> factors = {0.5, 1.0, 1.0 / 3.0};
    std::vector<Tensor> expected;
    for (size_t p = 0; p < named.size(); ++p) {
      const Tensor g = ops::to(named[p].second.grad(), DType::f64);
      CHECK(squares[p] == doctest::Approx(ops::sum(ops::mul(g, g)).item()).epsilon(1e-12));
      expected.push_back(ops::mul(named[p].second.grad(), ops::to(Tensor::scalar(factors[p], DType::f64), dtype)));
    }
    flat.scale(grads, Tensor::from_vector(factors, {3}));
    for (size_t p = 0; p < named.size(); ++p)
      if (dtype != DType::bf16)  // f32, f64: ops::mul's rounding exactly; bf16 rounds the factor to f32, not bf16
        CHECK(ops::to(named[p].second.grad(), DType::f64).to_vector<double>() ==
              ops::to(expected[p], DType::f64).to_vector<double>());
  }
}

TEST_CASE("flat parameters: a sum of squares is non-finite exactly where its gradient is, and the checks see it") {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  Tensor a = Tensor::zeros({3}).set_requires_grad(true), b = Tensor::zeros({2}).set_requires_grad(true);
  Tensor c = Tensor::zeros({2}).set_requires_grad(true);
  nn::FlatParameters flat({{"a", a}, {"b", b}, {"c", c}});
  a.set_grad(Tensor::from_vector(std::vector<float>{3e38f, 3e38f, 3e38f}, {3}));  // squares overflow f32, not f64
  b.set_grad(Tensor::from_vector(std::vector<float>{1, float(kInf)}, {2}));
  c.set_grad(Tensor::from_vector(std::vector<float>{float(kNaN), 1}, {2}));
  const Tensor squares = flat.sum_squares(flat.gather_gradients());
  CHECK(nn::non_finite_elements(squares).to_vector<double>() == std::vector<double>{0, 1, 1});

  nn::StepChecks checks({{"a", a}, {"b", b}, {"c", c}});
  checks.add_losses(1, {Tensor::scalar(1.0)});
  CHECK(checks.check_gradients(1, squares).item() == 1.0);
  CHECK(contains(error_of([&] { checks.read(); }), "the gradient of b is not finite at step 1"));
  CHECK(contains(error_of([&] { checks.check_gradients(2, Tensor::zeros({2}, DType::f64)); }),
                 "needs f64 [3] sums of squares"));
}

TEST_CASE("adam over the flat buffer: the same bits as adam_step on each parameter, and without a gradient no change") {
  for (bool decoupled : {false, true}) {
    CAPTURE(decoupled);
    nn::AdamOptions options;
    options.decoupled = decoupled;
    options.weight_decay = decoupled ? 0.01 : 0.0;
    ThreeParams flat_params(7), plain(7);
    nn::Adam adam(flat_params.named(), options);
    const nn::NamedTensors named = plain.named();
    std::vector<Tensor> m, v;
    for (const auto& [name, p] : named) {
      m.push_back(Tensor::zeros(p.shape()));
      v.push_back(Tensor::zeros(p.shape()));
    }
    for (int step = 1; step <= 3; ++step) {
      flat_params.set_grads(10 + uint64_t(step));
      plain.set_grads(10 + uint64_t(step));
      if (step == 3) flat_params.e.set_grad(Tensor()), plain.e.set_grad(Tensor());  // the loop over the parts
      adam.step(0.01);
      // Adam::step's arithmetic by hand, one parameter at a time.
      const double bias1 = 1 - std::pow(0.9, step), bias2 = 1 - std::pow(0.98, step);
      const double eps = decoupled ? 1e-9 * std::sqrt(bias2) : 1e-9;
      for (size_t p = 0; p < named.size(); ++p)
        if (named[p].second.grad().defined())
          backend_for(Device::cpu()).adam_step(named[p].second, named[p].second.grad(), m[p], v[p], 0.9, 0.98,
                                            0.01 * std::sqrt(bias2) / bias1, eps, decoupled ? 0.01 * 0.01 : 0.0,
                                            Tensor());
    }
    const nn::NamedTensors state = adam.state();
    for (size_t p = 0; p < named.size(); ++p) {
      CAPTURE(named[p].first);
      CHECK(values(flat_params.named()[p].second) == values(named[p].second));
      CHECK(values(state[2 * p].second) == values(m[p]));
      CHECK(values(state[2 * p + 1].second) == values(v[p]));
    }
  }
}

TEST_CASE("adam over the flat buffer: load_state fills the moments in place, a wrong shape is named") {
  ThreeParams params(8);
  nn::Adam adam(params.named(), {});
  nn::NamedTensors saved;
  for (const auto& [name, moment] : adam.state()) saved.emplace_back(name, Tensor::full(moment.shape(), 0.25));
  adam.load_state(saved, 5);
  CHECK(adam.steps_taken() == 5);
  for (const auto& [name, moment] : adam.state()) CHECK(values(moment) == std::vector<float>(size_t(moment.numel()), 0.25f));
  saved[3].second = Tensor::zeros({4});
  CHECK(contains(error_of([&] { adam.load_state(saved, 5); }), "'v.b' has shape [4], the parameter has [3]"));
}

TEST_CASE("adam over the flat buffer: built before the first forward pass, every parameter starts 64-aligned and "
          "training matches one optimiser per parameter, bit for bit") {
  // A small model with the full one's layout of heads: expr_head.bias is one
  // element, so packed without padding every parameter after it would start
  // 4 bytes from a 16-byte boundary (cuBLASLt's bias epilogue, cuda/linear.cpp).
  const proformer::ModelConfig config{.dim = 8, .blocks = 1, .heads = 2, .head_dim = 4, .ffn_mult = 2,
                                      .conv_kernel = 3, .kmer_kernel = 3, .expr_tokens = 2, .seq_len = 8};
  proformer::Proformer model(config, 3), reference(config, 3);
  nn::Adam adam(model.named_parameters(), {});  // as bench/bench_model.cpp does: before any forward pass
  std::vector<std::unique_ptr<nn::Adam>> one_each;  // each a buffer of one parameter: offset 0, no padding
  for (const auto& named : reference.named_parameters())
    one_each.push_back(std::make_unique<nn::Adam>(nn::NamedTensors{named}, nn::AdamOptions{}));

  const nn::FlatParameters& flat = adam.parameters();
  for (size_t p = 0; p < flat.size(); ++p) {
    CAPTURE(flat.params()[p].first);
    CHECK(flat.offset(p) % nn::FlatParameters::kAlignment == 0);
    CHECK(flat.params()[p].second.offset() == flat.offset(p));
  }

  Generator data(4);
  const int64_t B = 2, S = 2 * config.seq_len;
  const Tensor tokens = ops::to(ops::uniform({B, S}, 0, 5.999, data), DType::i32);
  const Tensor targets = ops::to(ops::uniform({B, S}, 0, 3.999, data), DType::i32);
  const Tensor mask = ops::to(ops::to(ops::uniform({B, S}, 0, 1.5, data), DType::i32), DType::f32);
  const Tensor labels = ops::normal({B}, 0, 1, data);
  const double masked = ops::sum(mask).item();
  auto train_step = [&](proformer::Proformer& m, auto&& clip_and_step) {
    Generator dropout(5);
    m.zero_grad();
    proformer::proformer_loss(m.forward(tokens, dropout), labels, targets, mask, masked).total.backward();
    clip_and_step();
  };
  for (int step = 0; step < 3; ++step) {
    train_step(model, [&] {
      nn::clip_gradients(adam.parameters(), 0.5, 1.0, nn::ClipMode::PerParameter);
      adam.step(1e-2);
    });
    train_step(reference, [&] {
      for (auto& one : one_each) {
        nn::clip_gradients(one->parameters(), 0.5, 1.0, nn::ClipMode::PerParameter);
        one->step(1e-2);
      }
    });
  }
  const nn::NamedTensors trained = model.named_parameters(), expected = reference.named_parameters();
  for (size_t p = 0; p < trained.size(); ++p) {
    CAPTURE(trained[p].first);
    CHECK(values(trained[p].second) == values(expected[p].second));
  }
  CHECK(values(trained[0].second) != values(proformer::Proformer(config, 3).named_parameters()[0].second));
}
