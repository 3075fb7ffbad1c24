// Safetensors: round trips of every dtype, the byte layout that Python
// readers expect, the golden file of the independent Python writer, one
// pf::Error per kind of damaged file, and atomic saving.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/ops.h"
#include "nn/formats/safetensors.h"

using namespace pf;
namespace fs = std::filesystem;
using json = nlohmann::json;
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

namespace {

// A fresh directory under the system temp dir, removed with its contents at
// the end of the test. The pid keeps parallel CTest processes apart.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("pf_test_safetensors_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// The bytes of a hand-made file: header length, header text, then `data_bytes` zero bytes.
std::string raw_file(const std::string& header, size_t data_bytes) {
  const uint64_t n = header.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + header + std::string(data_bytes, '\0');
}

// The tensor's bytes in row-major order.
std::string bytes_of(const Tensor& t) {
  const Tensor c = ops::contiguous(t);
  return std::string(static_cast<const char*>(c.raw_data()), size_t(c.numel()) * dtype_size(c.dtype()));
}

}  // namespace

TEST_CASE("safetensors: round trip of every dtype, a strided view and a 0-d scalar, with metadata") {
  TempDir dir;
  const Tensor base = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  const Tensor halves = Tensor::from_vector<float>({1.0f, -2.5f, 0.15625f, 65504.0f}, {2, 2});
  const NamedTensors tensors = {
      {"f32", Tensor::from_vector<float>({1.5f, -2.0f, 3e-8f, 1e30f, 0.0f, -0.0f}, {2, 3})},
      {"f64", Tensor::from_vector<double>({3.141592653589793, -1e-300}, {2})},
      {"bf16", ops::to(halves, DType::bf16)},
      {"f16", ops::to(halves, DType::f16)},
      {"i32", Tensor::from_vector<int32_t>({-7, 0, 2147483647}, {3})},
      {"i64", Tensor::from_vector<int64_t>({-1, 0, int64_t(1) << 40, 5}, {2, 2})},
      {"u8", Tensor::from_vector<uint8_t>({0, 7, 255}, {3})},
      {"view", ops::transpose(base, 0, 1)},  // [4, 3], not contiguous
      {"scalar", Tensor::scalar(2.5)},       // 0-d
      {"empty", Tensor::zeros({0, 3})},
  };
  const std::map<std::string, std::string> metadata = {
      {"format", "test"}, {"yaml", "model:\n  dim: 8  # \"quoted\", ünïcode\ttab"}, {"empty", ""}};
  const std::string path = dir.file("all.safetensors");
  nn::save_safetensors(path, tensors, metadata);

  const nn::SafetensorsFile loaded = nn::load_safetensors(path);
  CHECK(loaded.metadata == metadata);
  REQUIRE(loaded.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    REQUIRE(loaded.tensors.count(name) == 1);
    const Tensor& back = loaded.tensors.at(name);
    CHECK(back.dtype() == t.dtype());
    CHECK(back.shape() == t.shape());
    CHECK(back.device() == Device::cpu());
    CHECK(back.is_contiguous());
    CHECK(bytes_of(back) == bytes_of(t));  // bit-exact, -0.0 included
  }
  CHECK(loaded.tensors.at("view").to_vector<float>() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  CHECK(loaded.tensors.at("scalar").item() == 2.5);
}

TEST_CASE("safetensors: the byte layout that Python readers expect") {
  TempDir dir;
  const std::string path = dir.file("layout.safetensors");
  nn::save_safetensors(path,
                       {{"b", Tensor::from_vector<float>({1.0f, 2.0f}, {2})},
                        {"a", Tensor::from_vector<int64_t>({7}, {1})},
                        {"c", ops::to(Tensor::from_vector<float>({1.0f}, {1, 1}), DType::bf16)}},
                       {{"k", "v"}});
  const std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);  // little-endian u64
  CHECK(n % 8 == 0);
  REQUIRE(8 + n <= bytes.size());
  const std::string text = bytes.substr(8, n);
  const json header = json::parse(text);  // the space padding is JSON whitespace
  CHECK(header["__metadata__"] == json{{"k", "v"}});
  CHECK(header["a"]["dtype"] == "I64");
  CHECK(header["b"]["dtype"] == "F32");
  CHECK(header["c"]["dtype"] == "BF16");
  CHECK(header["c"]["shape"] == json::array({1, 1}));
  // Tensors in name order (also in the header text), back to back from offset 0.
  CHECK(text.find("\"a\"") < text.find("\"b\""));
  CHECK(text.find("\"b\"") < text.find("\"c\""));
  uint64_t offset = 0;
  for (const char* name : {"a", "b", "c"}) {
    CAPTURE(name);
    CHECK(header[name]["data_offsets"][0] == offset);
    offset = header[name]["data_offsets"][1];
  }
  CHECK(8 + n + offset == bytes.size());
  // The raw values: a = 7 (i64), then b = 1.0f, 2.0f, then c = bf16 1.0 (0x3f80).
  const char* data = bytes.data() + 8 + n;
  int64_t a;
  float b[2];
  uint16_t c;
  std::memcpy(&a, data, 8);
  std::memcpy(b, data + 8, 8);
  std::memcpy(&c, data + 16, 2);
  CHECK(a == 7);
  CHECK(b[0] == 1.0f);
  CHECK(b[1] == 2.0f);
  CHECK(c == 0x3f80);
}

TEST_CASE("safetensors: reads the golden file written by the Python reference") {
  const std::string golden = PF_SOURCE_DIR "/tests/golden/proformer_tiny.safetensors";
  if (!fs::exists(golden)) {
    MESSAGE(("skipped: " + golden + " is not in this checkout"));
    return;
  }
  const nn::SafetensorsFile file = nn::load_safetensors(golden);
  CHECK(file.metadata.at("format") == "proformer-golden");
  CHECK(!file.tensors.empty());
  // Written again from C++ and read back: the same tensors, bit for bit.
  TempDir dir;
  const std::string copy = dir.file("copy.safetensors");
  nn::save_safetensors(copy, NamedTensors(file.tensors.begin(), file.tensors.end()), file.metadata);
  const nn::SafetensorsFile again = nn::load_safetensors(copy);
  CHECK(again.metadata == file.metadata);
  REQUIRE(again.tensors.size() == file.tensors.size());
  for (const auto& [name, t] : file.tensors) {
    CAPTURE(name);
    CHECK(again.tensors.at(name).shape() == t.shape());
    CHECK(bytes_of(again.tensors.at(name)) == bytes_of(t));
  }
}

TEST_CASE("safetensors: every kind of damaged file is a pf::Error naming the file and the problem") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  auto entry = [](const char* dtype, const char* shape, const char* offsets) {
    return std::string("{\"dtype\": \"") + dtype + "\", \"shape\": " + shape + ", \"data_offsets\": " + offsets + "}";
  };
  struct Damage {
    std::string bytes;
    std::string message;  // follows "<path>: "
  };
  const Damage damages[] = {
      {"abc", "the file is 3 bytes, shorter than the 8-byte header length"},
      {raw_file("", 2040).replace(0, 8, std::string("\x40\xe2\x01\0\0\0\0\0", 8)),  // header length 123456
       "header length 123456 runs past the end of the file (2048 bytes)"},
      {raw_file("{\"w\": ", 0), "the header is not valid JSON"},
      {raw_file("{\"w\": " + entry("F32", "[4E848]", "[0, 4]") + "}", 4),  // found by fuzz_safetensors
       "the header is not valid JSON ([json.exception.out_of_range.406] number overflow parsing '4E848')"},
      {raw_file("[1, 2]", 0), "the header must be a JSON object, got array"},
      {raw_file(std::string(1000, '['), 0), "the header nests deeper than 8 levels (not a safetensors file?)"},
      {raw_file(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4), "tensor 'w' has no \"dtype\""},
      {raw_file(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", 4), "tensor 'w' has no \"shape\""},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [1]}})", 4), "tensor 'w' has no \"data_offsets\""},
      {raw_file("{\"w\": " + entry("F8_E4M3", "[1]", "[0, 1]") + "}", 1), "tensor 'w': unknown dtype 'F8_E4M3'"},
      {raw_file("{\"w\": " + entry("F32", "[-1]", "[0, 4]") + "}", 4),
       "tensor 'w': shape must be a list of non-negative integers, got [-1]"},
      {raw_file("{\"w\": " + entry("F32", "[1]", "[4, 0]") + "}", 4),
       "tensor 'w': data_offsets [4, 0] are out of order"},
      {raw_file("{\"w\": " + entry("F32", "[3]", "[0, 8]") + "}", 8),
       "tensor 'w': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8"},
      {raw_file("{\"w\": " + entry("F32", "[4]", "[0, 16]") + "}", 8),
       "tensor 'w': data_offsets [0, 16] run past the end of the data section (8 bytes)"},
      {raw_file("{\"a\": " + entry("F32", "[2]", "[0, 8]") + ", \"b\": " + entry("F32", "[2]", "[4, 12]") + "}", 12),
       "tensor 'b': data_offsets [4, 12] overlap tensor 'a'"},
      {raw_file("{\"a\": " + entry("F32", "[1]", "[0, 4]") + ", \"b\": " + entry("F32", "[1]", "[8, 12]") + "}", 12),
       "tensor 'b': data_offsets [8, 12] leave a gap after byte 4"},
      {raw_file("{\"w\": " + entry("F32", "[1]", "[0, 4]") + "}", 8),
       "the data section is 8 bytes but the tensors use 4"},
      {raw_file(R"({"__metadata__": {"k": 1}})", 0), "__metadata__ value 'k' must be a string, got 1"},
  };
  for (const Damage& damage : damages) {
    CAPTURE(damage.message);
    write_bytes(path, damage.bytes);
    CHECK_THROWS_WITH_AS(nn::load_safetensors(path), doctest::Contains((path + ": " + damage.message).c_str()), Error);
  }

  const std::string missing = dir.file("missing.safetensors");
  CHECK_THROWS_WITH_AS(nn::load_safetensors(missing), doctest::Contains((missing + ": cannot read").c_str()), Error);

  // Text from the file goes into the message escaped and cut short: the
  // message stays one line of bounded length (a fuzz run once got a 30 MB
  // line out of a 20 MB header).
  const std::string long_name(1 << 20, 'n');
  std::string huge_value = "[7";  // a list of 300,000 numbers
  for (int i = 1; i < 300'000; ++i) huge_value += ", 7";
  huge_value += "]";
  const std::string flooding[] = {
      raw_file("{\"a\\nb\": " + entry("F32", "[-1]", "[0, 4]") + "}", 4),  // name with a newline
      raw_file("{\"a\\nb\": " + entry("F32", "[1]", "[0, 4]") + ", \"c\\rd\": " + entry("F32", "[1]", "[2, 6]") +
                   "}",
               6),  // overlap: two names
      raw_file("{\"" + long_name + "\": " + entry("F32", "[-1]", "[0, 4]") + "}", 4),
      raw_file("{\"w\": " + entry(("F32\\n" + long_name).c_str(), "[1]", "[0, 4]") + "}", 4),  // long dtype
      raw_file("{\"w\": {\"dtype\": " + huge_value + ", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4),
      raw_file("{\"w\": " + entry("F32", huge_value.c_str(), "[0, 4]") + "}", 4),
      raw_file("{\"w\": " + entry("F32", "[1]", huge_value.c_str()) + "}", 4),
      raw_file("{\"w\": " + huge_value + "}", 0),
      raw_file("{\"__metadata__\": {\"k\\n" + long_name + "\": " + huge_value + "}}", 0),
      raw_file("{\"__metadata__\": " + huge_value + "}", 0),
      raw_file(std::string(8, '[') + std::string(1 << 20, '7'), 0),  // a JSON error quoting a long token
      raw_file("{\"w\": \"" + long_name, 0),
  };
  for (const std::string& bytes : flooding) {
    write_bytes(path, bytes);
    std::string message;
    try {
      nn::load_safetensors(path);
    } catch (const Error& e) {
      message = e.what();
    }
    CAPTURE(message.substr(0, 300));
    CHECK(message.find(path + ": ") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find('\r') == std::string::npos);
    CHECK(message.size() < 500);
  }

  // An absurd header length inside a (sparse) file large enough to hold it.
  write_bytes(path, raw_file("", 0).replace(0, 8, std::string("\0\xc2\xeb\x0b\0\0\0\0", 8)));  // 200,000,000
  fs::resize_file(path, 200'000'100);
  CHECK_THROWS_WITH_AS(nn::load_safetensors(path),
                       doctest::Contains((path + ": header length 200000000 is over the limit").c_str()), Error);
}

TEST_CASE("safetensors: saving is atomic and leaves no temporary file") {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  const Tensor w = Tensor::ones({4});
  nn::save_safetensors(path, {{"w", w}}, {});
  CHECK(fs::exists(path));
  CHECK(!fs::exists(path + ".tmp"));

  // A save that fails before writing leaves the previous file as it was.
  const std::string before = read_bytes(path);
  CHECK_THROWS_WITH_AS(nn::save_safetensors(path, {{"w", w}, {"w", w}}, {}),
                       doctest::Contains((path + ": tensor name 'w' appears twice").c_str()), Error);
  CHECK(read_bytes(path) == before);
  CHECK(!fs::exists(path + ".tmp"));

  // A save that fails at the final rename (a directory is in the way) removes its temporary file.
  const std::string blocked = dir.file("blocked.safetensors");
  fs::create_directories(blocked);
  CHECK_THROWS_WITH_AS(nn::save_safetensors(blocked, {{"w", w}}, {}),
                       doctest::Contains((blocked + ": could not write").c_str()), Error);
  CHECK(!fs::exists(blocked + ".tmp"));

  // A directory that does not exist: the error names the file, nothing is created.
  const std::string nowhere = dir.file("no/such/dir/model.safetensors");
  CHECK_THROWS_WITH_AS(nn::save_safetensors(nowhere, {{"w", w}}, {}),
                       doctest::Contains((nowhere + ".tmp: cannot create").c_str()), Error);

  // Saving over an existing file replaces it.
  nn::save_safetensors(path, {{"w", Tensor::zeros({2})}}, {});
  CHECK(nn::load_safetensors(path).tensors.at("w").shape() == Shape{2});
  CHECK(!fs::exists(path + ".tmp"));
}
