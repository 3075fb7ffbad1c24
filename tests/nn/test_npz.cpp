// Tests of the npz writer (nn/formats/npz.h): arrays streamed row by row come
// back with their shapes and values, the .npy headers are 64-byte aligned,
// nothing is at the path before commit() (or after a writer dropped without
// it), and, where the machine has them, Python's zipfile (CRCs) and
// numpy.load read the file too; the test does not need them.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "nn/formats/npz.h"
#include "test_util.h"

using namespace pf;
using namespace pf::test;

namespace {

// Writes "arr_0" [3, 4, 5] (value r * 100 + c * 10 + l, like numpy's arange
// reshaped, scaled) and "lengths" [3] to `path`.
void write_example(const std::string& path) {
  nn::NpzWriter npz(path);
  const size_t arr = npz.add_array("arr_0", {4, 5}), lengths = npz.add_array("lengths", {});
  for (int r = 0; r < 3; ++r) {
    std::vector<float> row;  // [4, 5]
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 5; ++l) row.push_back(float(r * 100 + c * 10 + l) + 0.5f);
    npz.append(arr, row.data());
    const float length = float(r + 1);
    npz.append(lengths, &length);
  }
  npz.commit();
}

bool python_has(const std::string& module) {
  return std::system(("python3 -c 'import " + module + "' > /dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_CASE("npz: streamed rows read back with their shapes and values") {
  TempDir dir;
  const std::string path = dir.file("example.npz");
  write_example(path);
  const std::map<std::string, nn::NpyArray> arrays = nn::read_npz(path);
  REQUIRE(arrays.size() == 2);
  const nn::NpyArray& arr = arrays.at("arr_0");
  CHECK(arr.shape == std::vector<int64_t>{3, 4, 5});
  REQUIRE(arr.values.size() == 60);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 5; ++l) CHECK(arr.values[size_t(r * 20 + c * 5 + l)] == float(r * 100 + c * 10 + l) + 0.5f);
  CHECK(arrays.at("lengths").shape == std::vector<int64_t>{3});
  CHECK(arrays.at("lengths").values == std::vector<float>{1, 2, 3});

  // Each .npy header ends on a 64-byte boundary of its member, with '\n'.
  const std::string bytes = read_text(path);
  for (size_t at = bytes.find("\x93NUMPY"); at != std::string::npos; at = bytes.find("\x93NUMPY", at + 1)) {
    const size_t header_length = uint8_t(bytes[at + 8]) | size_t(uint8_t(bytes[at + 9])) << 8;
    CHECK((10 + header_length) % 64 == 0);
    CHECK(bytes[at + 10 + header_length - 1] == '\n');
  }
  CHECK(contains(bytes, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4, 5), }"));
  CHECK(contains(bytes, "'shape': (3,), }"));
}

TEST_CASE("npz: an array with no rows has a first dimension of 0") {
  TempDir dir;
  nn::NpzWriter npz(dir.file("empty.npz"));
  npz.add_array("arr_0", {4, 7});
  npz.commit();
  CHECK(nn::read_npz(dir.file("empty.npz")).at("arr_0").shape == std::vector<int64_t>{0, 4, 7});
}

TEST_CASE("npz: nothing at the path before commit, nor after a writer dropped without it") {
  TempDir dir;
  const std::string path = dir.file("partial.npz");
  {
    nn::NpzWriter npz(path);
    const float row[2] = {1, 2};
    npz.append(npz.add_array("arr_0", {2}), row);
    CHECK_FALSE(std::filesystem::exists(path));
  }
  CHECK(std::filesystem::is_empty(dir.path));  // no .tmp either
  CHECK(contains(error_of([&] { nn::NpzWriter npz(dir.file("missing_dir/x.npz")); }), "missing_dir/x.npz"));
}

TEST_CASE("npz: Python's zipfile checks the CRCs and numpy.load reads the arrays, where installed") {
  if (!python_has("zipfile")) {
    MESSAGE("python3 not found: skipping the zipfile and numpy checks");
    return;
  }
  TempDir dir;
  const std::string path = dir.file("example.npz");
  write_example(path);
  CHECK(std::system(("python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                     "sys.exit(z.testzip() is not None or z.namelist() != [\"arr_0.npy\", \"lengths.npy\"])' " +
                     path)
                        .c_str()) == 0);
  if (!python_has("numpy")) {
    MESSAGE("numpy not found: skipping numpy.load");
    return;
  }
  CHECK(std::system(("python3 -c 'import sys, numpy as np; a = np.load(sys.argv[1])[\"arr_0\"]; "
                     "e = (np.arange(3)[:, None, None] * 100 + np.arange(4)[None, :, None] * 10 + "
                     "np.arange(5)[None, None, :] + 0.5).astype(np.float32); "
                     "sys.exit(not (a.dtype == np.float32 and a.shape == (3, 4, 5) and (a == e).all()))' " +
                     path)
                        .c_str()) == 0);
}

// fuzz_npz found a header whose shape was not a list of sizes: std::stoll
// threw std::invalid_argument out of read_npz (and a shape missing altogether
// was read from a wrapped offset). Each is now one pf::Error line.
TEST_CASE("npz: a shape that is not sizes, or none, is refused in one line naming the member") {
  TempDir dir;
  const std::string path = dir.file("arrays.npz");
  {
    nn::NpzWriter writer(path);
    const size_t a = writer.add_array("effects", {3});
    const std::vector<float> row = {1, 2, 3};
    writer.append(a, row.data());
    writer.append(a, row.data());
    writer.commit();
  }
  const std::string good = read_text(path);
  REQUIRE(good.find("'shape': (2, 3)") != std::string::npos);
  for (const auto& [from, to, expected] :
       {std::tuple{"'shape': (2, 3)", "'shape': (x, 3)", "a dimension that is not a size"},
        std::tuple{"'shape': (2, 3)", "'shape': (-2,3)", "a dimension that is not a size"},
        std::tuple{"'shape': (2, 3)", "'shapes' (2, 3)", "no 'shape': (...)"},
        std::tuple{"'shape': (2, 3)", "'shape': (2, 3 ", "no 'shape': (...)"}}) {
    CAPTURE(to);
    std::string bad = good;
    bad.replace(bad.find(from), std::string(from).size(), to);
    write_text(path, bad);
    const std::string error = error_of([&] { nn::read_npz(path); });
    CHECK(contains(error, "member effects.npy has " + std::string(expected)));
    CHECK(error.find('\n') == std::string::npos);
  }
}

// A ZIP64 size that wraps the offset past the end of the file back inside it
// was let through by `data + size <= file size`; it is now "truncated".
TEST_CASE("npz: a member size past the end of the file is truncated, however large") {
  TempDir dir;
  const std::string path = dir.file("arrays.npz");
  {
    nn::NpzWriter writer(path);
    const size_t a = writer.add_array("effects", {1});
    const float one = 1;
    writer.append(a, &one);
    writer.commit();
  }
  std::string bytes = read_text(path);
  // The first local header: name length at 26, then its ZIP64 extra field
  // (id 1, length, uncompressed size, compressed size) after the name.
  const size_t name_length = uint8_t(bytes[26]) | size_t(uint8_t(bytes[27])) << 8;
  const size_t extra = 30 + name_length, data = extra + 20;
  REQUIRE(bytes[extra] == 1);
  const uint64_t wrapping = ~uint64_t(0) - data + 1;  // data + size == 0 in 64 bits
  for (int i = 0; i < 8; ++i) bytes[extra + 12 + size_t(i)] = char(uint8_t(wrapping >> (8 * i)));
  write_text(path, bytes);
  CHECK(contains(error_of([&] { nn::read_npz(path); }), "member effects.npy is truncated"));
}
