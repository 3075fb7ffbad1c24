// Tensor basics: creation, views sharing storage, copies, casts, errors.
#include <doctest/doctest.h>

#include "core/ops.h"
#include "core/storage.h"

using namespace pf;

TEST_CASE("tensor: creation and metadata") {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.strides() == Shape{3, 1});
  CHECK(t.numel() == 6);
  CHECK(t.is_contiguous());
  CHECK(t.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(Tensor::zeros({3}).to_vector<float>() == std::vector<float>{0, 0, 0});
  CHECK(Tensor::full({2}, 2.5, DType::f64).to_vector<double>() == std::vector<double>{2.5, 2.5});
  CHECK(Tensor::arange(4, DType::i64).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(Tensor::scalar(3.0).item() == 3.0);
}

TEST_CASE("tensor: views share storage") {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor tt = ops::transpose(t, 0, 1);  // [3, 2]
  CHECK(tt.shape() == Shape{3, 2});
  CHECK(tt.strides() == Shape{1, 3});    // the two strides swapped
  CHECK(tt.storage() == t.storage());    // one allocation, two views
  CHECK(!tt.is_contiguous());
  CHECK(tt.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK(ops::slice(t, 1, 0, 3, 2).to_vector<float>() == std::vector<float>{0, 2, 3, 5});
  CHECK(ops::narrow(t, 0, 1, 1).to_vector<float>() == std::vector<float>{3, 4, 5});
  CHECK(ops::expand(ops::narrow(t, 0, 0, 1), {3, 3}).to_vector<float>() ==
        std::vector<float>{0, 1, 2, 0, 1, 2, 0, 1, 2});
  CHECK(ops::reshape(t, {3, -1}).shape() == Shape{3, 2});
  CHECK(ops::unsqueeze(t, 1).shape() == Shape{2, 1, 3});
  CHECK(ops::squeeze(ops::unsqueeze(t, 0), 0).shape() == Shape{2, 3});
  CHECK(ops::permute(ops::reshape(t, {1, 2, 3}), {2, 0, 1}).shape() == Shape{3, 1, 2});
  // Writing through a view changes the base.
  ops::fill_(ops::narrow(t, 1, 1, 1), 9.0);
  CHECK(t.to_vector<float>() == std::vector<float>{0, 9, 2, 3, 9, 5});
  // reshape of a non-contiguous view copies, so the values come out in logical order.
  CHECK(ops::reshape(tt, {6}).to_vector<float>() == std::vector<float>{0, 3, 9, 9, 2, 5});
}

TEST_CASE("tensor: casts between dtypes") {
  Tensor t = Tensor::from_vector<float>({1.5f, -2.25f, 3.0f, 65504.0f}, {4});
  CHECK(ops::to(t, DType::f64).to_vector<double>() == std::vector<double>{1.5, -2.25, 3.0, 65504.0});
  CHECK(ops::to(t, DType::bf16).to_vector<float>() == std::vector<float>{1.5f, -2.25f, 3.0f, 65536.0f});
  CHECK(ops::to(t, DType::f16).to_vector<float>() == std::vector<float>{1.5f, -2.25f, 3.0f, 65504.0f});
  CHECK(ops::to(t, DType::i32).to_vector<int32_t>() == std::vector<int32_t>{1, -2, 3, 65504});
  // Round to nearest even: 1 + 2^-9 is halfway between two bf16 values.
  CHECK(bf16_to_float(float_to_bf16(1.0f + 1.0f / 512)) == 1.0f);
  CHECK(f16_to_float(float_to_f16(1e-7f)) == doctest::Approx(1.19209e-7).epsilon(0.01));  // f16 subnormal
  CHECK(std::isinf(f16_to_float(float_to_f16(70000.0f))));
}

TEST_CASE("tensor: seeded random fills do not depend on thread count") {
  Generator a(7), b(7);
  Tensor x = ops::uniform({1000}, -1, 1, a);
  Tensor y = ops::uniform({1000}, -1, 1, b);
  CHECK(x.to_vector<float>() == y.to_vector<float>());
  CHECK(a.offset == b.offset);
  Tensor z = ops::uniform({1000}, -1, 1, a);  // the next fill draws fresh numbers
  CHECK(z.to_vector<float>() != x.to_vector<float>());
  std::vector<float> n = ops::normal({20000}, 0, 1, a).to_vector<float>();
  double mean = 0, var = 0;
  for (float v : n) mean += v / n.size();
  for (float v : n) var += (v - mean) * (v - mean) / n.size();
  CHECK(std::abs(mean) < 0.03);
  CHECK(std::abs(var - 1.0) < 0.05);
}

TEST_CASE("tensor: errors name the op, shapes and dtypes") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  try {
    ops::matmul(a, b);
    FAIL("matmul of [2, 3] and [4, 5] did not throw");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("matmul") != std::string::npos);
    CHECK(msg.find("f32[2, 3]") != std::string::npos);
    CHECK(msg.find("f32[4, 5]") != std::string::npos);
    CHECK(msg.find("ops.cpp:") != std::string::npos);
  }
  CHECK_THROWS_AS(ops::add(a, Tensor::zeros({2, 3}, DType::f64)), Error);
  CHECK_THROWS_AS(ops::reshape(a, {4, -1}), Error);
  CHECK_THROWS_AS(ops::expand(a, {3, 3}), Error);
}

TEST_CASE("tensor: printing") {
  std::string s = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}).str();
  CHECK(s.find("f32[2, 2] on cpu") != std::string::npos);
  CHECK(s.find("[3 4]") != std::string::npos);
}

TEST_CASE("tensor: storage stats count live bytes and their peak") {
  const StorageStats start = storage_stats(Device::Kind::CPU);
  reset_storage_peak(Device::Kind::CPU);
  {
    Tensor a = Tensor::empty({1000}, DType::f32);
    CHECK(storage_stats(Device::Kind::CPU).live_bytes == start.live_bytes + 4000);
    Tensor b = Tensor::empty({500}, DType::f64);
    CHECK(storage_stats(Device::Kind::CPU).peak_bytes == start.live_bytes + 8000);
  }
  CHECK(storage_stats(Device::Kind::CPU).live_bytes == start.live_bytes);
  CHECK(storage_stats(Device::Kind::CPU).peak_bytes == start.live_bytes + 8000);
  reset_storage_peak(Device::Kind::CPU);
  CHECK(storage_stats(Device::Kind::CPU).peak_bytes == start.live_bytes);
}
