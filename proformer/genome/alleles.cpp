#include "proformer/genome/alleles.h"

#include "core/error.h"
#include "proformer/data/sequence.h"

namespace pf::proformer {

std::string allele_unscorable_reason(std::string_view alt) {
  if (alt.empty() || alt == ".") return "no alternative allele ('.')";
  if (alt == "*") return "spanning deletion allele '*'";
  if (alt.front() == '<') return "symbolic allele " + excerpt(alt);
  if (alt.find_first_of("[]") != std::string_view::npos) return "breakend allele " + excerpt(alt);
  if (find_invalid_base(alt) != std::string_view::npos)
    return "allele " + excerpt(alt) + " is not a sequence of A, C, G, T, N";
  return "";
}

std::string apply_allele(std::string_view forward, int64_t region_start, int64_t variant_start, size_t ref_length,
                         std::string_view alt) {
  const int64_t offset = variant_start - region_start;
  PF_CHECK(offset >= 0 && offset + int64_t(ref_length) <= int64_t(forward.size()), "alleles", "internal: variant at ",
           variant_start, " (", ref_length, " nt) outside the region [", region_start, ", ",
           region_start + int64_t(forward.size()), ")");
  std::string edited(forward.substr(0, size_t(offset)));
  edited += alt;
  edited += forward.substr(size_t(offset) + ref_length);
  return edited;
}

}  // namespace pf::proformer
