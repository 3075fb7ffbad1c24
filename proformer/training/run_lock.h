// RunLock: one training run per output directory. Two pf-train runs given the
// same output.dir would interleave their checkpoints and metrics; the second
// one stops at once instead.
//
// The lock is an advisory flock() on <dir>/train.lock. The kernel releases it
// when the process ends in any way (even SIGKILL or a crash), so a dead run
// never leaves the directory locked; the file itself stays and is harmless.
#pragma once
#include <string>

namespace pf::proformer {

class RunLock {
 public:
  // Locks `dir` (which must exist). Throws pf::Error naming the directory
  // when another process holds the lock, or when the lock file cannot be
  // opened.
  explicit RunLock(const std::string& dir);
  ~RunLock();  // releases the lock
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace pf::proformer
