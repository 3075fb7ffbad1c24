// Safetensors: the tensor file format of Hugging Face, used for checkpoints
// and golden files. Python reads it with the `safetensors` package or with
// json + numpy alone (tests/reference/safetensors_io.py). Layout:
//
//   8 bytes   N, the length of the JSON header (unsigned 64-bit, little-endian)
//   N bytes   JSON, padded with spaces so that N is a multiple of 8:
//               {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//                ...,
//                "__metadata__": {"<key>": "<value>", ...}}
//   the rest  the data section: every tensor's bytes, row-major and
//             little-endian, back to back in name order. data_offsets count
//             bytes from the start of this section.
//
// dtype names: F32 F64 BF16 F16 I32 I64 U8 (pf::DType f32 ... u8).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace pf::nn {

// Writes `tensors` (any device, dtype and layout: each is copied to a
// contiguous CPU tensor first) with `metadata`, sorted by name. The write is
// atomic: the bytes go to "<path>.tmp" in the same directory, are flushed to
// disk (fsync) and the file is renamed over `path`, so a crash leaves either
// the old file or the complete new one; the temporary file is removed on
// failure. Throws pf::Error naming the file (duplicate or reserved tensor
// names, undefined tensors, I/O errors).
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// The contents of a safetensors file: contiguous CPU tensors by name and the
// "__metadata__" strings (empty when the file has none).
struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Reads and validates a whole file. Every problem throws pf::Error with the
// path and what is wrong, e.g. "model.safetensors: header length 123456 runs
// past the end of the file (2048 bytes)": missing or unreadable file, file
// shorter than 8 bytes, header length too large, header not JSON, an entry
// without dtype/shape/data_offsets, unknown dtype, offsets reversed,
// overlapping, leaving a gap or past the end, byte size not equal to
// shape x dtype size, data section longer than the tensors. Nothing is read
// outside the file.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace pf::nn
