// Generator::rows (core/philox.h): a fill for some rows of a batch draws what
// the whole batch's fill draws for those rows, so that dropout does not
// depend on how data-parallel training splits a batch.
#include <doctest/doctest.h>

#include "core/ops.h"

using namespace pf;

TEST_CASE("generator rows: a fill for rows [2, 5) of 8 equals those rows of the whole batch's fill") {
  Generator whole(7, 100);
  const Tensor all = ops::dropout_mask({8, 3, 4}, 0.5, whole);   // [8, 3, 4]
  const Tensor second = ops::dropout_mask({8, 3, 4}, 0.5, whole);  // the next fill
  Generator part(7, 100);
  part.rows = {2, 3, 8};
  const Tensor rows = ops::dropout_mask({3, 3, 4}, 0.5, part);  // [3, 3, 4]
  CHECK(rows.to_vector<float>() == ops::contiguous(ops::narrow(all, 0, 2, 3)).to_vector<float>());
  CHECK(part.offset == whole.offset - 96);  // advanced as the whole batch's first fill
  const Tensor rows_next = ops::dropout_mask({3, 3, 4}, 0.5, part);
  CHECK(rows_next.to_vector<float>() == ops::contiguous(ops::narrow(second, 0, 2, 3)).to_vector<float>());
}

TEST_CASE("generator rows: a fill that is not whole rows on a Philox block boundary is an error") {
  Generator gen(7);
  gen.rows = {1, 2, 4};  // 3 values per row: row 1 starts inside a block of 4
  try {
    ops::dropout_mask({2, 3}, 0.5, gen);
    FAIL("expected a pf::Error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("a fill of 6 elements for rows 1..3 of 4") != std::string::npos);
  }
}
