// DNA alphabet and the promoter encoding the model reads (docs/model.md, "Input"):
// flanks removed, centred in seq_len positions with N, reverse complement
// appended, so a promoter becomes 2 * seq_len tokens:
//
//   tokens [0, seq_len)            forward strand, N-padded
//   tokens [seq_len, 2 * seq_len)  reverse complement of the padded forward strand
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pf::proformer {

// Token ids. kMask never comes from input: the masked-language-model objective
// writes it over nucleotides during training (see batches.h).
enum Token : uint8_t { kA = 0, kC = 1, kG = 2, kT = 3, kN = 4, kMask = 5 };
constexpr int kVocabSize = 6;

// Default number of positions per strand (the model sees 2 * kSeqLen tokens).
constexpr int kSeqLen = 100;

// Constant plasmid sequence around every DREAM promoter.
constexpr std::string_view kFlank5 = "TGCATTTTTTTCACATC";  // 17 nt, before the promoter
constexpr std::string_view kFlank3 = "GGTTACGGCTGTT";      // 13 nt, after the promoter

// Token of one nucleotide character: A C G T N in either case -> kA..kN;
// any other character -> -1.
int token_of(char base);

// Index of the first character of `seq` that is not A, C, G, T or N (either
// case), or std::string_view::npos when all are valid.
size_t find_invalid_base(std::string_view seq);

// Human-readable form of a character for error messages: 'X', or '\x0b' when
// it is not printable.
std::string describe_char(char c);

// `seq` without the 5' flank if it starts with kFlank5 and without the 3' flank
// if it ends with kFlank3 (case-insensitive); either or both may be absent.
// Returns a view into `seq`.
std::string_view strip_flanks(std::string_view seq);

// Encodes a flank-free promoter of L nucleotides (1 <= L <= seq_len, A/C/G/T/N
// in either case) into out[0, 2 * seq_len):
//   left pad floor((seq_len - L) / 2) N, the sequence, right pad the rest with N,
//   then the reverse complement of that padded string (A<->T, C<->G, N->N).
// Example, seq_len = 10, "ACG": NNNACGNNNN NNNNCGTNNN.
// Throws pf::Error for L = 0, L > seq_len, or an invalid character (naming its
// 0-based position). kSeqLen is the model's seq_len.
void encode_promoter(std::string_view trimmed, int seq_len, uint8_t* out);

// Changes one nucleotide of a promoter encoded by encode_promoter, in place:
// `position` (0-based in the flank-free promoter of `length` nt) becomes
// `token` (kA..kN). Both tokens that show this nucleotide change, the forward
// one and its reverse-complement partner, so the result equals encoding the
// mutated string anew, without re-encoding it (in-silico mutagenesis changes
// one base at a time). Throws pf::Error for a position outside [0, length),
// a length outside [1, seq_len] or a token that is not a nucleotide.
void substitute_base(uint8_t* encoded, int seq_len, int length, int position, uint8_t token);

}  // namespace pf::proformer
