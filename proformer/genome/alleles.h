// VCF alleles applied to a piece of genome: which alternative alleles spell
// out a sequence, and the sequence a region becomes with one of them.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace pf::proformer {

// Why the alternative allele `alt` cannot be scored as a sequence, or "" when
// it can (A, C, G, T, N in either case): a symbolic allele (<DEL>, <*>), a
// breakend (with [ or ]), the spanning deletion *, a missing allele '.', or
// another character.
std::string allele_unscorable_reason(std::string_view alt);

// The bases of a region, `forward` (the genome's + strand from 0-based
// `region_start`), with the `ref_length` bases at 0-based genome position
// `variant_start` replaced by `alt`. The replaced bases must lie inside the
// region. SNVs, MNVs, insertions and deletions (VCF spells indels with a
// shared first base) are all this one replacement.
std::string apply_allele(std::string_view forward, int64_t region_start, int64_t variant_start, size_t ref_length,
                         std::string_view alt);

}  // namespace pf::proformer
