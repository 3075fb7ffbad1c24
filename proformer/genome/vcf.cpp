#include "proformer/genome/vcf.h"

#include <htslib/bgzf.h>
#include <htslib/hfile.h>
#include <htslib/hts_log.h>
#include <htslib/kstring.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "core/error.h"

namespace fs = std::filesystem;

namespace pf::proformer {

// Exactly one of tbx (bgzip VCF) and idx (BCF) is set when the file is indexed.
struct VcfReader::Handles {
  htsFile* file = nullptr;
  bcf_hdr_t* header = nullptr;
  bcf1_t* record = nullptr;
  tbx_t* tbx = nullptr;
  hts_idx_t* idx = nullptr;
  hts_itr_t* itr = nullptr;
  kstring_t line = {0, 0, nullptr};
  ~Handles() {
    free(line.s);
    hts_itr_destroy(itr);
    if (tbx) tbx_destroy(tbx);
    if (idx) hts_idx_destroy(idx);
    if (record) bcf_destroy(record);
    if (header) bcf_hdr_destroy(header);
    if (file) hts_close(file);
  }
};

namespace {

// The index file htslib found beside `path`, if any, for its age check.
std::string index_file(const std::string& path) {
  for (const char* suffix : {".tbi", ".csi"})
    if (std::error_code e; fs::exists(path + suffix, e)) return path + suffix;
  return "";
}

}  // namespace

VcfReader::VcfReader(std::string path) : path_(std::move(path)), h_(std::make_unique<Handles>()) {
  hts_set_log_level(HTS_LOG_OFF);  // our own one-line errors replace htslib's messages
  h_->file = hts_open(path_.c_str(), "r");
  PF_CHECK(h_->file != nullptr, "vcf", path_, ": cannot open");
  const htsFormat* format = hts_get_format(h_->file);
  PF_CHECK(format->format == vcf || format->format == bcf, "vcf", path_,
           ": not a VCF or BCF file (expected a header starting with ##fileformat=VCF)");
  if (format->compression == bgzf)
    PF_CHECK(bgzf_check_EOF(hts_get_bgzfp(h_->file)) == 1, "vcf", path_,
             ": truncated (expected the bgzip end-of-file marker; the file is incomplete)");
  else
    PF_CHECK(format->compression == no_compression, "vcf", path_,
             ": compressed with plain gzip (expected bgzip or no compression; HINT: zcat | bgzip)");
  h_->header = bcf_hdr_read(h_->file);
  PF_CHECK(h_->header != nullptr, "vcf", path_,
           ": cannot read the header (expected ##fileformat=VCF..., ## meta lines, then the #CHROM line)");
  h_->record = bcf_init();

  if (format->format == bcf)
    h_->idx = bcf_index_load3(path_.c_str(), nullptr, HTS_IDX_SILENT_FAIL);
  else if (format->compression == bgzf)
    h_->tbx = tbx_index_load3(path_.c_str(), nullptr, HTS_IDX_SILENT_FAIL);
  if (indexed()) {
    const std::string index = index_file(path_);
    std::error_code e;
    PF_CHECK(index.empty() || fs::last_write_time(index, e) >= fs::last_write_time(path_, e), "vcf", path_, ": index ",
             index, " is older than the file and may not match it (HINT: tabix -f -p vcf ", path_, ")");
  }
  std::error_code e;
  file_size_ = fs::is_regular_file(path_, e) ? uint64_t(fs::file_size(path_, e)) : 0;
}

VcfReader::~VcfReader() = default;

bool VcfReader::indexed() const { return h_->tbx != nullptr || h_->idx != nullptr; }

std::vector<std::string> VcfReader::indexed_chromosomes() const {
  int n = 0;
  const char** names = h_->tbx ? tbx_seqnames(h_->tbx, &n) : bcf_index_seqnames(h_->idx, h_->header, &n);
  std::vector<std::string> out(names, names + n);
  free(names);
  return out;
}

bool VcfReader::query(const std::string& chrom, int64_t start, int64_t end) {
  PF_CHECK(indexed(), "vcf", path_, ": internal: query without an index");
  hts_itr_destroy(h_->itr);
  h_->itr = nullptr;
  const int tid = h_->tbx ? tbx_name2id(h_->tbx, chrom.c_str()) : bcf_hdr_name2id(h_->header, chrom.c_str());
  if (tid < 0) return false;
  query_ = chrom + ":" + std::to_string(start + 1) + "-" + std::to_string(end);
  h_->itr = h_->tbx ? tbx_itr_queryi(h_->tbx, tid, start, end) : bcf_itr_queryi(h_->idx, tid, start, end);
  return h_->itr != nullptr;
}

bool VcfReader::next(VcfRecord& record) {
  bcf1_t* rec = h_->record;
  int status = 0;
  if (h_->itr == nullptr) {
    status = bcf_read(h_->file, h_->header, rec);
  } else if (h_->tbx) {
    status = tbx_itr_next(h_->file, h_->tbx, h_->itr, &h_->line);
    if (status >= 0) status = vcf_parse1(&h_->line, h_->header, rec) == 0 ? 0 : -2;
  } else {
    status = bcf_itr_next(h_->file, h_->itr, rec);
  }
  // Which record, for messages (only made when one is needed).
  auto where = [&] { return h_->itr ? "a record in " + query_ : "record " + std::to_string(records_ + 1); };
  if (status == -1) return false;
  // A contig missing from the header is only noted (htslib adds it); any other error code is a broken record.
  PF_CHECK(status >= 0 && (rec->errcode & ~BCF_ERR_CTG_UNDEF) == 0, "vcf", path_, ": ", where(),
           ": cannot read it (expected a tab-separated VCF record: CHROM POS ID REF ALT ...; or the file is "
           "truncated or corrupt)");
  PF_CHECK(bcf_unpack(rec, BCF_UN_STR) == 0, "vcf", path_, ": ", where(), ": cannot unpack its alleles");
  PF_CHECK(rec->pos >= 0, "vcf", path_, ": ", where(), ": POS is not an integer >= 1");
  PF_CHECK(*bcf_seqname_safe(h_->header, rec) != '\0', "vcf", path_, ": ", where(), ": CHROM is empty");
  PF_CHECK(rec->n_allele > 0 && rec->d.allele[0][0] != '\0' && std::string_view(rec->d.allele[0]) != ".", "vcf", path_,
           ": ", where(), ": REF is missing (expected the reference bases)");
  if (!h_->itr) ++records_;
  record.chrom = bcf_seqname_safe(h_->header, rec);
  record.pos = int64_t(rec->pos) + 1;
  record.id = rec->d.id ? rec->d.id : ".";
  record.ref = rec->d.allele[0];
  record.alts.assign(rec->d.allele + 1, rec->d.allele + rec->n_allele);
  if (record.alts.empty()) record.alts.push_back(".");
  return true;
}

double VcfReader::fraction_read() const {
  if (file_size_ == 0) return 0;
  // A plain-text VCF is read through its hFILE, anything else through BGZF.
  const htsFormat* format = hts_get_format(h_->file);
  const BGZF* bgzf = hts_get_bgzfp(h_->file);
  const off_t at = format->compression == no_compression && format->format == vcf ? htell(h_->file->fp.hfile)
                   : bgzf                                                         ? htell(bgzf->fp)
                                                                                  : 0;
  return at > 0 ? std::min(1.0, double(at) / double(file_size_)) : 0;
}

}  // namespace pf::proformer
