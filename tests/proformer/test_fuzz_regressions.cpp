// Inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found that broke a
// contract, each reduced to what broke it. The npz ones are in
// tests/nn/test_npz.cpp, beside the reader's other tests.
#include <doctest/doctest.h>

#include <string>

#include "proformer/genome/vcf.h"
#include "test_util.h"

using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

// fuzz_vcf: htslib reads a record whose CHROM column is empty, and the reader
// returned it with chrom "", which no genome has and no message names.
TEST_CASE("fuzz regression: a VCF record with an empty CHROM is refused in one line naming the record") {
  TempDir dir;
  const std::string path = dir.file("empty_chrom.vcf");
  write_text(path,
             "##fileformat=VCFv4.2\n##contig=<ID=chrI,length=1000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
             "chrI\t10\trs1\tA\tG\t50\tPASS\t.\n"
             "\t10\trs2\tA\tG\t50\tPASS\t.\n");
  VcfReader vcf(path);
  VcfRecord record;
  REQUIRE(vcf.next(record));
  CHECK(record.chrom == "chrI");
  const std::string error = error_of([&] { vcf.next(record); });
  CHECK(contains(error, "empty_chrom.vcf: record 2: CHROM is empty"));
  CHECK(error.find('\n') == std::string::npos);
}
