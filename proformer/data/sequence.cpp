#include "proformer/data/sequence.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/error.h"

namespace pf::proformer {
namespace {

// Character -> token lookup: -1 everywhere except A C G T N in both cases.
constexpr std::array<int8_t, 256> make_token_table() {
  std::array<int8_t, 256> table{};
  table.fill(-1);
  const char upper[] = "ACGTN";
  const char lower[] = "acgtn";
  for (int t = 0; t < 5; ++t) {
    table[uint8_t(upper[t])] = int8_t(t);
    table[uint8_t(lower[t])] = int8_t(t);
  }
  return table;
}
constexpr std::array<int8_t, 256> kTokenTable = make_token_table();

// Complementary base token: A<->T, C<->G (ids 0<->3, 1<->2), N->N.
uint8_t complement(uint8_t token) { return token == kN ? uint8_t(kN) : uint8_t(kT - token); }

// Number of N before a promoter of `length` nt on the forward strand.
int left_padding(int seq_len, int length) { return (seq_len - length) / 2; }

// Case-insensitive comparison of a DNA string with an upper-case flank.
bool same_bases(std::string_view text, std::string_view upper_flank) {
  return std::equal(text.begin(), text.end(), upper_flank.begin(), upper_flank.end(),
                    [](char a, char b) { return (a & ~0x20) == b; });  // clears the ASCII lower-case bit
}

}  // namespace

int token_of(char base) { return kTokenTable[uint8_t(base)]; }

size_t find_invalid_base(std::string_view seq) {
  auto bad = std::find_if(seq.begin(), seq.end(), [](char c) { return token_of(c) < 0; });
  return bad == seq.end() ? std::string_view::npos : size_t(bad - seq.begin());
}

std::string describe_char(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string{'\'', c, '\''};
  char hex[8];
  std::snprintf(hex, sizeof hex, "'\\x%02x'", unsigned(uint8_t(c)));
  return hex;
}

std::string_view strip_flanks(std::string_view seq) {
  if (seq.size() >= kFlank5.size() && same_bases(seq.substr(0, kFlank5.size()), kFlank5))
    seq.remove_prefix(kFlank5.size());
  if (seq.size() >= kFlank3.size() && same_bases(seq.substr(seq.size() - kFlank3.size()), kFlank3))
    seq.remove_suffix(kFlank3.size());
  return seq;
}

void encode_promoter(std::string_view trimmed, int seq_len, uint8_t* out) {
  const int length = int(trimmed.size());
  PF_CHECK(seq_len > 0, "encode_promoter", "seq_len = ", seq_len, " (expected > 0)");
  PF_CHECK(length > 0, "encode_promoter", "empty sequence (expected 1 to ", seq_len,
           " nt after removing the flanks)");
  PF_CHECK(length <= seq_len, "encode_promoter", "sequence of ", length, " nt (expected at most seq_len = ",
           seq_len, " nt after removing the flanks)");

  // Forward strand, out[0, seq_len): N * left, the sequence, N * the rest.
  const int left = left_padding(seq_len, length);
  std::fill(out, out + seq_len, uint8_t(kN));
  for (int i = 0; i < length; ++i) {
    const int token = token_of(trimmed[i]);
    PF_CHECK(token >= 0, "encode_promoter", "invalid character ", describe_char(trimmed[i]), " at position ", i,
             " (expected A, C, G, T or N)");
    out[left + i] = uint8_t(token);
  }
  // Reverse strand, out[seq_len, 2 * seq_len): position j pairs with forward position seq_len - 1 - j.
  for (int j = 0; j < seq_len; ++j) out[seq_len + j] = complement(out[seq_len - 1 - j]);
}

void substitute_base(uint8_t* encoded, int seq_len, int length, int position, uint8_t token) {
  PF_CHECK(length >= 1 && length <= seq_len, "substitute_base", "length ", length, " (expected 1 to seq_len = ",
           seq_len, ")");
  PF_CHECK(position >= 0 && position < length, "substitute_base", "position ", position, " outside the promoter of ",
           length, " nt");
  PF_CHECK(token <= kN, "substitute_base", "token ", int(token), " is not a nucleotide (expected kA..kN)");
  const int forward = left_padding(seq_len, length) + position;
  encoded[forward] = token;
  // Reverse position j pairs with forward position seq_len - 1 - j (see encode_promoter).
  encoded[seq_len + (seq_len - 1 - forward)] = complement(token);
}

}  // namespace pf::proformer
