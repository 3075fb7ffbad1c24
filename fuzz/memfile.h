// MemFile: the fuzz input as a file that the path-based readers can open,
// kept in memory (memfd_create) rather than on disk. The readers open
// path() themselves, each with its own file offset; libFuzzer's buffer is
// copied in by set() before every run.
#pragma once
#include <sys/mman.h>  // memfd_create
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace pf::fuzz {

class MemFile {
 public:
  MemFile() : fd_(memfd_create("pf_fuzz_input", 0)) {
    if (fd_ < 0) die("memfd_create");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  // Replaces the file's contents with data[0, size).
  void set(const uint8_t* data, size_t size) {
    if (ftruncate(fd_, 0) != 0) die("ftruncate");
    for (size_t done = 0; done < size;) {
      const ssize_t n = pwrite(fd_, data + done, size - done, off_t(done));
      if (n <= 0) die("pwrite");
      done += size_t(n);
    }
  }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] static void die(const char* what) {
    std::perror(what);  // the harness itself failed, not the code under test
    std::abort();
  }
  int fd_;
  std::string path_;
};

}  // namespace pf::fuzz
