// npz: NumPy's file of named arrays, a zip archive of .npy files, as written
// by numpy.savez and read by numpy.load(path)["name"]. NpzWriter writes
// float32 arrays whose first dimension grows row by row, so a program can
// stream N rows without holding them: each member's rows go to an anonymous
// temporary file, and commit() writes the archive once N is known.
//
//   archive   per member: zip local header, then the .npy file stored
//             (no compression); then the central directory. ZIP64 records
//             throughout, so members may pass 4 GiB.
//   .npy      "\x93NUMPY", version 1.0, a little-endian uint16 header length,
//             the header {'descr': '<f4', 'fortran_order': False,
//             'shape': (N, ...), } padded with spaces to a 64-byte boundary
//             and ending in '\n', then the data, row-major, little-endian.
//
// The archive is an AtomicFile (core/atomic_file.h): nothing is at `path`
// until commit(), so a failed run leaves no partial npz.
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/atomic_file.h"

namespace pf::nn {

class NpzWriter {
 public:
  // Opens "<path>.tmp" (AtomicFile); throws pf::Error naming it when it cannot.
  explicit NpzWriter(const std::string& path);
  ~NpzWriter();
  NpzWriter(const NpzWriter&) = delete;
  NpzWriter& operator=(const NpzWriter&) = delete;

  // Adds the member <name>.npy, a float32 array of shape [rows, row_shape...];
  // returns its index for append().
  size_t add_array(const std::string& name, const std::vector<int64_t>& row_shape);
  // Appends one row (product of row_shape floats) to member `array`.
  void append(size_t array, const float* row);
  // Writes the archive and renames it into place. Throws pf::Error naming the
  // file on an I/O error.
  void commit();

 private:
  struct Member {
    std::string name;
    std::vector<int64_t> row_shape;
    int64_t rows = 0;
    uint64_t bytes = 0;  // of data written to `data`
    uint32_t crc = 0;    // crc32 of that data
    FILE* data = nullptr;
  };
  AtomicFile file_;
  std::vector<Member> members_;
};

// A float32 array read back from an npz written by NpzWriter or numpy.savez
// (stored members, '<f4', C order).
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Every member of the npz at `path`, by name without ".npy". Throws pf::Error
// naming the file and member for anything else (compressed members, other
// dtypes, Fortran order, a truncated file).
std::map<std::string, NpyArray> read_npz(const std::string& path);

}  // namespace pf::nn
