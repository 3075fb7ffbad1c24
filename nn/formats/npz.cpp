#include "nn/formats/npz.h"

#include <zlib.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace pf::nn {

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEnd = 0x06054b50,
                   kZip64End = 0x06064b50, kZip64Locator = 0x07064b50;
constexpr uint16_t kVersion = 45;           // 4.5: ZIP64
constexpr uint16_t kDosDate = (1 << 5) | 1;  // 1980-01-01, time 00:00
constexpr uint32_t kUse64 = 0xffffffff;      // "see the ZIP64 extra field"

// Little-endian fields appended to a byte string.
void put16(std::string& out, uint64_t v) {
  for (int i = 0; i < 2; ++i) out += char((v >> (8 * i)) & 0xff);
}
void put32(std::string& out, uint64_t v) {
  for (int i = 0; i < 4; ++i) out += char((v >> (8 * i)) & 0xff);
}
void put64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += char((v >> (8 * i)) & 0xff);
}

// The .npy preamble and header of a float32 C-order array of `shape`.
std::string npy_header(const std::vector<int64_t>& shape) {
  std::string dims;  // Python's tuple: (N,) or (N, 4, L)
  for (size_t k = 0; k < shape.size(); ++k) dims += (k ? ", " : "") + std::to_string(shape[k]);
  if (shape.size() == 1) dims += ",";
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t preamble = 10;  // magic 6, version 2, header length 2
  dict.append(63 - (preamble + dict.size()) % 64, ' ');
  dict += '\n';  // preamble + dict is a multiple of 64
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  put16(out, dict.size());
  return out + dict;
}

uint64_t get(const std::string& bytes, size_t at, int width, const std::string& path) {
  PF_CHECK(at + size_t(width) <= bytes.size(), "npz", path, ": truncated at byte ", at);
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | uint8_t(bytes[at + size_t(i)]);
  return v;
}

// The dimensions of an .npy header's 'shape': (d0, d1, ...) and their
// product, each a non-negative integer; pf::Error naming the member otherwise.
std::vector<int64_t> parse_shape(const std::string& header, int64_t& count, const std::string& path,
                                 const std::string& name) {
  const auto bad = [&](const char* what) {
    PF_FAIL("npz", path, ": member ", excerpt(name), " has ", what, " in its header ", excerpt(header));
  };
  const size_t key = header.find("'shape': (");
  const size_t open = key + 10, close = key == std::string::npos ? key : header.find(')', open);
  if (close == std::string::npos) bad("no 'shape': (...)");
  std::vector<int64_t> shape;
  count = 1;
  std::istringstream dims(header.substr(open, close - open));
  for (std::string dim; std::getline(dims, dim, ',');) {
    const size_t first = dim.find_first_not_of(' '), last = dim.find_last_not_of(' ');
    if (first == std::string::npos) continue;  // the empty part after "(4,"
    int64_t d = -1;
    const auto [end, error] = std::from_chars(dim.data() + first, dim.data() + last + 1, d);
    if (error != std::errc() || end != dim.data() + last + 1 || d < 0) bad("a dimension that is not a size");
    if (__builtin_mul_overflow(count, d, &count) || count > (int64_t(1) << 40)) bad("a shape too large");
    shape.push_back(d);
  }
  return shape;
}

}  // namespace

NpzWriter::NpzWriter(const std::string& path) : file_(path) {}

NpzWriter::~NpzWriter() {
  for (Member& m : members_)
    if (m.data) std::fclose(m.data);  // tmpfile(): removed on close
}

size_t NpzWriter::add_array(const std::string& name, const std::vector<int64_t>& row_shape) {
  Member m;
  m.name = name + ".npy";
  m.row_shape = row_shape;
  m.data = std::tmpfile();
  PF_CHECK(m.data, "npz", file_.path(), ": cannot create a temporary file for member ", m.name, ": ", std::strerror(errno));
  members_.push_back(m);
  return members_.size() - 1;
}

void NpzWriter::append(size_t array, const float* row) {
  Member& m = members_.at(array);
  int64_t count = 1;
  for (int64_t d : m.row_shape) count *= d;
  const size_t nbytes = size_t(count) * sizeof(float);  // little-endian hosts only (x86-64, aarch64)
  PF_CHECK(std::fwrite(row, 1, nbytes, m.data) == nbytes, "npz", file_.path(), ": cannot write member ", m.name,
           " to a temporary file: ", std::strerror(errno));
  m.crc = uint32_t(crc32(m.crc, reinterpret_cast<const Bytef*>(row), uInt(nbytes)));
  m.bytes += nbytes;
  ++m.rows;
}

void NpzWriter::commit() {
  uint64_t offset = 0;
  std::string central;  // the central directory, one entry per member
  std::vector<char> buffer(1 << 20);
  for (Member& m : members_) {
    std::vector<int64_t> shape = {m.rows};
    shape.insert(shape.end(), m.row_shape.begin(), m.row_shape.end());
    const std::string header = npy_header(shape);
    const uint64_t size = header.size() + m.bytes;
    const uint32_t crc = uint32_t(crc32_combine(crc32(0, reinterpret_cast<const Bytef*>(header.data()),
                                                      uInt(header.size())),
                                                m.crc, z_off_t(m.bytes)));
    // Local header: sizes in the ZIP64 extra field (id 1: uncompressed, compressed).
    std::string local;
    put32(local, kLocalHeader);
    put16(local, kVersion);
    put16(local, 0);  // flags
    put16(local, 0);  // stored
    put16(local, 0);  // time
    put16(local, kDosDate);
    put32(local, crc);
    put32(local, kUse64);
    put32(local, kUse64);
    put16(local, m.name.size());
    put16(local, 20);
    local += m.name;
    put16(local, 1);
    put16(local, 16);
    put64(local, size);
    put64(local, size);
    file_.write(local);
    file_.write(header);
    std::rewind(m.data);
    for (uint64_t left = m.bytes; left > 0;) {
      const size_t n = std::fread(buffer.data(), 1, std::min<uint64_t>(left, buffer.size()), m.data);
      PF_CHECK(n > 0, "npz", file_.path(), ": cannot read back member ", m.name, " from its temporary file");
      file_.write(buffer.data(), n);
      left -= n;
    }
    // Central directory entry: sizes and the local header's offset in the ZIP64 extra field.
    put32(central, kCentralHeader);
    put16(central, kVersion);  // made by
    put16(central, kVersion);  // needed
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDosDate);
    put32(central, crc);
    put32(central, kUse64);
    put32(central, kUse64);
    put16(central, m.name.size());
    put16(central, 28);
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, kUse64);
    central += m.name;
    put16(central, 1);
    put16(central, 24);
    put64(central, size);
    put64(central, size);
    put64(central, offset);
    offset += local.size() + size;
  }
  // ZIP64 end of central directory, its locator, then the classic end record.
  std::string end = central;
  const uint64_t zip64_end = offset + central.size();
  put32(end, kZip64End);
  put64(end, 44);  // size of the rest of this record
  put16(end, kVersion);
  put16(end, kVersion);
  put32(end, 0);
  put32(end, 0);
  put64(end, members_.size());
  put64(end, members_.size());
  put64(end, central.size());
  put64(end, offset);
  put32(end, kZip64Locator);
  put32(end, 0);
  put64(end, zip64_end);
  put32(end, 1);
  put32(end, kEnd);
  put16(end, 0);
  put16(end, 0);
  put16(end, 0xffff);
  put16(end, 0xffff);
  put32(end, kUse64);
  put32(end, kUse64);
  put16(end, 0);
  file_.write(end);
  file_.commit();
}

std::map<std::string, NpyArray> read_npz(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  PF_CHECK(in, "npz", path, ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string bytes = text.str();
  std::map<std::string, NpyArray> arrays;
  size_t at = 0;
  while (get(bytes, at, 4, path) == kLocalHeader) {
    PF_CHECK(get(bytes, at + 8, 2, path) == 0, "npz", path, ": member at byte ", at, " is compressed (expected stored)");
    uint64_t size = get(bytes, at + 18, 4, path);
    const size_t name_length = get(bytes, at + 26, 2, path), extra_length = get(bytes, at + 28, 2, path);
    std::string name = bytes.substr(at + 30, name_length);
    for (size_t e = at + 30 + name_length; e < at + 30 + name_length + extra_length;
         e += 4 + get(bytes, e + 2, 2, path))
      if (get(bytes, e, 2, path) == 1 && size == kUse64) size = get(bytes, e + 12, 8, path);  // compressed size
    const size_t data = at + 30 + name_length + extra_length;
    PF_CHECK(data <= bytes.size() && size <= bytes.size() - data, "npz", path, ": member ", excerpt(name),
             " is truncated");
    const std::string npy = bytes.substr(data, size);
    PF_CHECK(npy.rfind("\x93NUMPY", 0) == 0 && npy.size() >= 10, "npz", path, ": member ", excerpt(name),
             " is not a .npy file");
    const size_t header_length = get(npy, 8, 2, path);
    const std::string header = npy.substr(10, header_length);
    PF_CHECK(header.find("'descr': '<f4'") != std::string::npos &&
                 header.find("'fortran_order': False") != std::string::npos,
             "npz", path, ": member ", excerpt(name), " is not a C-order float32 array: ", excerpt(header));
    NpyArray array;
    int64_t n = 0;
    array.shape = parse_shape(header, n, path, name);  // n < 2^40: n * 4 cannot overflow
    PF_CHECK(10 + header_length + size_t(n) * 4 == npy.size(), "npz", path, ": member ", excerpt(name), " holds ",
             npy.size(), " bytes, not those of shape ", excerpt(header));
    array.values.resize(size_t(n));
    if (n > 0)  // an array with no rows has no data (and memcpy takes no null pointer, even for 0 bytes)
      std::memcpy(array.values.data(), npy.data() + 10 + header_length, size_t(n) * 4);
    if (name.size() > 4 && name.substr(name.size() - 4) == ".npy") name.resize(name.size() - 4);
    arrays[name] = std::move(array);
    at = data + size;
  }
  return arrays;
}

}  // namespace pf::nn
