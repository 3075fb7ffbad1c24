// AtomicFile: write a file so that readers see either the old content or the
// complete new content, never a partial one. Data goes to "<path>.tmp" in the
// same directory; commit() flushes it to disk (fsync) and renames it over
// <path>. If commit() is never reached (an error, an exception), the
// destructor removes the temporary file.
#pragma once
#include <cstdio>
#include <string>

namespace pf {

class AtomicFile {
 public:
  // Opens "<path>.tmp" for writing; throws pf::Error naming the file on failure.
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t nbytes);
  void write(const std::string& text) { write(text.data(), text.size()); }
  // fsync + rename into place. Throws pf::Error on a write or disk error.
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_path_;
  FILE* file_ = nullptr;
};

}  // namespace pf
