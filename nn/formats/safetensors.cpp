// Safetensors reader and writer; the format is described in safetensors.h.
//
// Reading validates the whole header before the first tensor byte is read:
// every entry is parsed and checked (dtype, shape, byte count), then the
// entries, sorted by offset, must tile the data section exactly.
#include "nn/formats/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <tuple>

#include "core/atomic_file.h"
#include "core/ops.h"
#include "nn/formats/json_input.h"

namespace pf::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors bytes are little-endian and are copied as they are");

namespace {

using json = nlohmann::json;

// A header longer than this is not a safetensors header (the Rust reference
// implementation has the same limit); it protects against huge allocations.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// A header nests three deep ({name: {"shape": [...]}}); deeper nesting is
// stopped while parsing (see nn/formats/json_input.h: a 100 MB header of brackets
// would take over 7 GB).
constexpr int kMaxHeaderDepth = 8;

// ---- dtype names ----

struct DTypeName {
  DType dtype;
  const char* name;
};
constexpr DTypeName kDTypeNames[] = {{DType::f32, "F32"}, {DType::f64, "F64"}, {DType::bf16, "BF16"},
                                     {DType::f16, "F16"}, {DType::i32, "I32"}, {DType::i64, "I64"},
                                     {DType::u8, "U8"}};

const char* safetensors_dtype(DType dtype) {
  for (const DTypeName& d : kDTypeNames)
    if (d.dtype == dtype) return d.name;
  PF_FAIL("safetensors", "no safetensors name for dtype ", dtype);
}

std::optional<DType> dtype_from_safetensors(const std::string& name) {
  for (const DTypeName& d : kDTypeNames)
    if (name == d.name) return d.dtype;
  return std::nullopt;
}

uint64_t tensor_bytes(const Tensor& t) { return uint64_t(t.numel()) * dtype_size(t.dtype()); }

// ---- writing ----

// ---- reading ----

// One header entry, validated on its own (offsets are checked against the
// other entries later).
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;  // bytes from the start of the data section
};

// "[begin, end]", as in the header.
std::string span_str(uint64_t begin, uint64_t end) {
  std::ostringstream text;
  text << '[' << begin << ", " << end << ']';
  return text.str();
}

bool is_count(const json& j) {
  return j.is_number_unsigned() && j.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max());
}

Entry parse_entry(const std::string& path, const std::string& name, const json& info) {
  const std::string where = path + ": tensor '" + excerpt(name) + "'";
  PF_CHECK(info.is_object(), "safetensors", where, ": expected {\"dtype\", \"shape\", \"data_offsets\"}, got ",
           excerpt(info.dump()));
  for (const char* field : {"dtype", "shape", "data_offsets"})
    PF_CHECK(info.contains(field), "safetensors", where, " has no \"", field, "\"");
  Entry e;
  e.name = name;

  const json& dtype = info["dtype"];
  PF_CHECK(dtype.is_string(), "safetensors", where, ": dtype must be a string, got ", excerpt(dtype.dump()));
  const std::optional<DType> known = dtype_from_safetensors(dtype.get<std::string>());
  PF_CHECK(known.has_value(), "safetensors", where, ": unknown dtype '", excerpt(dtype.get<std::string>()),
           "' (this reader knows F32, F64, BF16, F16, I32, I64, U8)");
  e.dtype = *known;

  const json& shape = info["shape"];
  PF_CHECK(shape.is_array() && std::all_of(shape.begin(), shape.end(), is_count), "safetensors", where,
           ": shape must be a list of non-negative integers, got ", excerpt(shape.dump()));
  uint64_t nbytes = dtype_size(e.dtype);
  for (const json& d : shape) {
    e.shape.push_back(d.get<int64_t>());
    PF_CHECK(!__builtin_mul_overflow(nbytes, d.get<uint64_t>(), &nbytes), "safetensors", where, ": shape ",
             excerpt(shape.dump()), " is too large");
  }

  const json& offsets = info["data_offsets"];
  PF_CHECK(offsets.is_array() && offsets.size() == 2 && is_count(offsets[0]) && is_count(offsets[1]), "safetensors",
           where, ": data_offsets must be [begin, end] with non-negative integers, got ", excerpt(offsets.dump()));
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  PF_CHECK(e.begin <= e.end, "safetensors", where, ": data_offsets ", span_str(e.begin, e.end), " are out of order");
  PF_CHECK(e.end - e.begin == nbytes, "safetensors", where, ": shape ", shape_str(e.shape), " of ",
           safetensors_dtype(e.dtype), " needs ", nbytes, " bytes but data_offsets ", span_str(e.begin, e.end),
           " hold ", e.end - e.begin);
  return e;
}

// The entries sorted by offset must cover [0, data_bytes) exactly, back to back.
void check_layout(const std::string& path, std::vector<Entry>& entries, uint64_t data_bytes) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t covered = 0;  // bytes [0, covered) belong to the entries so far
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const std::string where = path + ": tensor '" + excerpt(e.name) + "': data_offsets " + span_str(e.begin, e.end);
    PF_CHECK(e.end <= data_bytes, "safetensors", where, " run past the end of the data section (", data_bytes,
             " bytes)");
    PF_CHECK(e.begin >= covered, "safetensors", where, " overlap tensor '", excerpt(entries[i - 1].name), "'");
    PF_CHECK(e.begin == covered, "safetensors", where, " leave a gap after byte ", covered,
             " (tensors must be back to back)");
    covered = e.end;
  }
  PF_CHECK(covered == data_bytes, "safetensors", path, ": the data section is ", data_bytes,
           " bytes but the tensors use ", covered);
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& metadata) {
  if (metadata.is_null()) return {};
  PF_CHECK(metadata.is_object(), "safetensors", path, ": __metadata__ must be an object, got ", excerpt(metadata.dump()));
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : metadata.items()) {
    PF_CHECK(value.is_string(), "safetensors", path, ": __metadata__ value '", excerpt(key), "' must be a string, got ",
             excerpt(value.dump()));
    out[key] = value.get<std::string>();
  }
  return out;
}

// Reads exactly `nbytes` at byte `offset`, which the caller has checked lie inside the file.
void read_at(std::ifstream& in, const std::string& path, uint64_t offset, void* dst, uint64_t nbytes) {
  in.seekg(std::streamoff(offset));
  in.read(static_cast<char*>(dst), std::streamsize(nbytes));
  PF_CHECK(in && uint64_t(in.gcount()) == nbytes, "safetensors", path, ": read of ", nbytes, " bytes at offset ",
           offset, " failed (did the file change while it was read?)");
}

}  // namespace

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Name order; names must be unique and not the reserved "__metadata__".
  std::vector<const std::pair<std::string, Tensor>*> sorted;
  for (const auto& named : tensors) sorted.push_back(&named);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [name, t] = *sorted[i];
    PF_CHECK(name != "__metadata__", "safetensors", path, ": '__metadata__' is reserved, not a tensor name");
    PF_CHECK(i == 0 || name != sorted[i - 1]->first, "safetensors", path, ": tensor name '", excerpt(name), "' appears twice");
    PF_CHECK(t.defined(), "safetensors", path, ": tensor '", excerpt(name), "' is undefined");
  }

  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto* named : sorted) {
    const Tensor& t = named->second;
    header[named->first] = {{"dtype", safetensors_dtype(t.dtype())},
                            {"shape", t.shape()},
                            {"data_offsets", {offset, offset + tensor_bytes(t)}}};
    offset += tensor_bytes(t);
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::type_error& e) {  // JSON strings must be UTF-8
    PF_FAIL("safetensors", path, ": tensor names and metadata must be UTF-8 text (", e.what(), ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  AtomicFile file(path);
  const uint64_t header_bytes = text.size();
  file.write(&header_bytes, 8);
  file.write(text.data(), text.size());
  for (const auto* named : sorted) {  // one host copy at a time
    const Tensor host = ops::contiguous(ops::to(named->second, Device::cpu()));
    file.write(host.raw_data(), tensor_bytes(host));
  }
  file.commit();
}

SafetensorsFile load_safetensors(const std::string& path) {
  PF_CHECK(!std::filesystem::is_directory(path), "safetensors", path, ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  PF_CHECK(in.is_open(), "safetensors", path, ": cannot read (", std::strerror(errno), ")");
  // The size of the file that was opened, not of whatever `path` names a
  // moment later: a writer may rename a new file over it meanwhile.
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  PF_CHECK(in && end >= 0, "safetensors", path, ": cannot read (", std::strerror(errno), ")");
  const auto file_bytes = uint64_t(end);
  PF_CHECK(file_bytes >= 8, "safetensors", path, ": the file is ", file_bytes,
           " bytes, shorter than the 8-byte header length");

  uint64_t header_bytes = 0;
  read_at(in, path, 0, &header_bytes, 8);
  PF_CHECK(header_bytes <= file_bytes - 8, "safetensors", path, ": header length ", header_bytes,
           " runs past the end of the file (", file_bytes, " bytes): truncated, or not a safetensors file");
  PF_CHECK(header_bytes <= kMaxHeaderBytes, "safetensors", path, ": header length ", header_bytes,
           " is over the limit of ", kMaxHeaderBytes, " bytes (not a safetensors file?)");
  std::string text(header_bytes, '\0');
  read_at(in, path, 8, text.data(), header_bytes);

  const json header =
      parse_json(text, {"safetensors", path, "the header", kMaxHeaderDepth, "not a safetensors file?"});
  PF_CHECK(header.is_object(), "safetensors", path, ": the header must be a JSON object, got ", header.type_name());

  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__")
      file.metadata = parse_metadata(path, info);
    else
      entries.push_back(parse_entry(path, name, info));
  }
  const uint64_t data_start = 8 + header_bytes;
  check_layout(path, entries, file_bytes - data_start);

  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    read_at(in, path, data_start + e.begin, t.raw_data(), e.end - e.begin);
    file.tensors.emplace(e.name, t);
  }
  return file;
}

}  // namespace pf::nn
