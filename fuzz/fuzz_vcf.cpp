// Fuzz target: VCF records through htslib (proformer/genome/vcf.h) and the
// allele rules applied to them (alleles.h). The input is a VCF or BCF file
// (plain, bgzip or gzip) on a memfd; every record is read and each of its
// alternative alleles judged scorable or not, as pf-infer --vcf does.
// Contracts checked: a record has a chromosome, a 1-based position and at
// least one ALT; a scorable ALT is A/C/G/T/N only; fraction_read() stays in
// [0, 1]. A pf::Error is the expected answer to bad input, as one short line.
#include <htslib/hts.h>

#include <cstdint>
#include <string>

#include "fuzz/harness.h"
#include "fuzz/memfile.h"
#include "proformer/genome/alleles.h"
#include "proformer/genome/vcf.h"

using namespace pf::proformer;
using pf::fuzz::fail;

namespace {

constexpr int64_t kMaxRecords = 4096;  // per input: a long file is no new path

void read_records(const std::string& path) {
  VcfReader vcf(path);
  if (vcf.indexed()) fail("fuzz_vcf", "a memfd VCF has no index to find");
  VcfRecord record;
  for (int64_t n = 0; n < kMaxRecords && vcf.next(record); ++n) {
    if (record.chrom.empty()) fail("fuzz_vcf", "a record without CHROM at POS " + std::to_string(record.pos));
    if (record.pos < 1) fail("fuzz_vcf", "a record at POS " + std::to_string(record.pos) + " on " + record.chrom);
    if (record.alts.empty()) fail("fuzz_vcf", "a record without ALT at " + record.chrom + ":" + std::to_string(record.pos));
    for (const std::string& alt : record.alts)
      if (allele_unscorable_reason(alt).empty() && alt.find_first_not_of("ACGTNacgtn") != std::string::npos)
        fail("fuzz_vcf", "a scorable allele with a character other than A/C/G/T/N");
    const double fraction = vcf.fraction_read();
    if (!(fraction >= 0 && fraction <= 1)) fail("fuzz_vcf", "fraction_read() outside [0, 1]");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pf::fuzz::MemFile file;
  static const bool quiet = (hts_set_log_level(HTS_LOG_OFF), true);  // htslib's warnings would flood the log
  (void)quiet;
  file.set(data, size);
  pf::fuzz::ok_or_error([&] { read_records(file.path()); });
  return 0;
}
