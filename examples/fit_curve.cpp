// Fit a small MLP to a curve: the micrograd exercise, with pf::Tensor.
//
// 64 points of y = sin(x) on [-3, 3]; a 1 -> 32 -> 32 -> 1 network with tanh
// between the layers; full-batch Adam. Prints the loss as it falls and exits
// with 1 unless the last loss is under a fiftieth of the first.
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "nn/layers/linear.h"     // nn::Linear (and nn::Module, pf::tanh, pf::mse_loss)
#include "nn/optim/optimizer.h"  // nn::Adam

using namespace pf;

// A Module owns its parameters through its sub-modules: named_parameters()
// finds l1.weight, l1.bias, ..., l3.bias for the optimiser.
class Mlp : public nn::Module {
 public:
  explicit Mlp(Generator& gen) {
    l1 = register_module("l1", std::make_shared<nn::Linear>(1, 32, true, gen));
    l2 = register_module("l2", std::make_shared<nn::Linear>(32, 32, true, gen));
    l3 = register_module("l3", std::make_shared<nn::Linear>(32, 1, true, gen));
  }
  // x [N, 1] -> [N, 1]
  Tensor forward(const Tensor& x) const { return l3->forward(tanh(l2->forward(tanh(l1->forward(x))))); }

  std::shared_ptr<nn::Linear> l1, l2, l3;
};

int main() {
  constexpr int kPoints = 64;
  std::vector<float> xs, ys;
  for (int i = 0; i < kPoints; ++i) {
    xs.push_back(-3.0f + 6.0f * float(i) / (kPoints - 1));
    ys.push_back(std::sin(xs.back()));
  }
  const Tensor x = Tensor::from_vector(xs, {kPoints, 1});  // [N, 1]
  const Tensor y = Tensor::from_vector(ys, {kPoints, 1});  // [N, 1]

  Generator gen(0);  // seeds the initial weights
  Mlp model(gen);
  nn::Adam optimizer(model.named_parameters(), {});
  double first = 0, last = 0;
  for (int step = 1; step <= 600; ++step) {
    Tensor loss = mse_loss(model.forward(x), y);  // records the graph
    model.zero_grad();
    loss.backward();        // fills every parameter's .grad
    optimizer.step(0.01);   // lr 0.01
    last = loss.item();
    if (step == 1) first = last;
    if (step == 1 || step % 100 == 0) std::printf("step %3d  loss %.5f\n", step, last);
  }
  const bool learned = last < first / 50;
  std::printf("%s: loss %.5f -> %.5f\n", learned ? "fitted" : "NOT fitted", first, last);
  return learned ? 0 : 1;
}
