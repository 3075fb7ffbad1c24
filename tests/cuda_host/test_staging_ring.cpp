// cuda/staging_ring.h, the ring of pinned blocks behind CUDA uploads, run on
// the CPU against a fake device: transfers queue up and happen only when the
// test lets the device run, as a GPU busy with earlier kernels would. The
// fake checks what a real device cannot tell us: that no block is written
// while a transfer still reads it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "cuda/staging_ring.h"

namespace {

// A device with one stream: transfer() and record() queue up, run() carries
// out the first `count` of them (all by default).
struct FakeDevice {
  struct Queued {
    void* dst;
    const void* src;  // nullptr for an event record
    size_t n;
    int event;
  };
  std::deque<Queued> queue;
  std::set<int> done_events;
  std::map<const void*, std::unique_ptr<std::vector<char>>> pinned;
  int events = 0, waits = 0, direct = 0;

  void run(size_t count = SIZE_MAX) {
    for (; count > 0 && !queue.empty(); --count) {
      const Queued q = queue.front();
      queue.pop_front();
      if (q.src == nullptr)
        done_events.insert(q.event);
      else
        std::memcpy(q.dst, q.src, q.n);
    }
  }
  // Whether a queued transfer reads [p, p + n).
  bool being_read(const void* p, size_t n) const {
    const char* lo = static_cast<const char*>(p);
    for (const Queued& q : queue)
      if (q.src != nullptr && static_cast<const char*>(q.src) < lo + n && lo < static_cast<const char*>(q.src) + q.n)
        return true;
    return false;
  }
};

// The Runtime the ring asks for, over a FakeDevice.
struct FakeRuntime {
  using Event = int;
  FakeDevice* device;

  void* alloc_pinned(size_t n) {
    auto block = std::make_unique<std::vector<char>>(n);
    void* p = block->data();
    device->pinned[p] = std::move(block);
    return p;
  }
  void free_pinned(void* p) {
    CHECK_FALSE(device->being_read(p, device->pinned.at(p)->size()));  // freed while read
    device->pinned.erase(p);
  }
  Event new_event() { return ++device->events; }
  bool finished(Event e) const { return device->done_events.count(e) > 0; }
  void wait(Event e) {
    ++device->waits;
    while (!finished(e)) device->run(1);
  }
  void destroy(Event) {}
  void transfer(void* dst, const void* src, size_t n) {
    if (device->pinned.count(src) == 0 && n > pf::cuda::StagingRing<FakeRuntime>::kMaxStaged) ++device->direct;
    device->queue.push_back({dst, src, n, 0});
  }
  void record(Event e) { device->queue.push_back({nullptr, nullptr, 0, e}); }
};

using Ring = pf::cuda::StagingRing<FakeRuntime>;

}  // namespace

TEST_CASE("staging ring: uploads queued behind a busy device arrive as they were, the host reusing its memory at once") {
  FakeDevice device;
  Ring ring(FakeRuntime{&device});
  // Upload k carries the value k, so a block written again while a transfer
  // still read it would deliver another upload's value.
  std::vector<int32_t> source(250);
  std::vector<std::vector<int32_t>> destinations(300, std::vector<int32_t>(250, -1));
  for (size_t k = 0; k < destinations.size(); ++k) {
    std::fill(source.begin(), source.end(), int32_t(k));
    const size_t count = 250 - k % 50;  // sizes differ
    ring.copy(source.data(), destinations[k].data(), count * sizeof(int32_t));
    std::fill(source.begin(), source.end(), -7);  // the host reuses its memory at once
    if (k % 50 == 49) device.run(10);              // the device gets a little done now and then
  }
  CHECK(ring.blocks() == Ring::kMaxBlocks);  // grown while the device lagged,
  CHECK(device.waits > 0);                   // then the host waited
  device.run();
  for (size_t k = 0; k < destinations.size(); ++k) {
    CAPTURE(k);
    const long count = long(250 - k % 50);
    CHECK(std::count(destinations[k].begin(), destinations[k].begin() + count, int32_t(k)) == count);
    CHECK(std::count(destinations[k].begin() + count, destinations[k].end(), -1) == 250 - count);
  }
}

TEST_CASE("staging ring: a device that keeps up reuses the first blocks, and the host never waits") {
  FakeDevice device;
  Ring ring(FakeRuntime{&device});
  std::vector<char> source(200 << 10, 3), destination(source.size());
  for (int k = 0; k < 1000; ++k) {
    const size_t n = k % 3 == 0 ? source.size() : 4096;  // blocks grow past their first 64 KiB now and then
    ring.copy(source.data(), destination.data(), n);
    device.run();
  }
  CHECK(ring.blocks() == Ring::kBlocks);
  CHECK(device.waits == 0);
  CHECK(device.pinned.size() <= Ring::kBlocks);
  CHECK(destination == source);
}

TEST_CASE("staging ring: a copy larger than kMaxStaged goes straight from the caller's memory") {
  FakeDevice device;
  Ring ring(FakeRuntime{&device});
  std::vector<char> big(Ring::kMaxStaged + 1, 5), destination(big.size());
  ring.copy(big.data(), destination.data(), big.size());
  CHECK(device.direct == 1);
  CHECK(device.pinned.empty());
  device.run();
  CHECK(destination == big);
}
