// Streamed reading of DNA input files, plain or gzip-compressed, or stdin.
//
//   LineReader          one line at a time, any length, CRLF or LF
//   TrainingTsvReader   DREAM training file: SEQUENCE<TAB>EXPRESSION per line
//   SequenceReader      inference input: DREAM txt/tsv, FASTA or one sequence per line
//
// Nothing here holds more than one record in memory, so the 6.7 M-line DREAM
// training file streams through in constant memory. Bad input throws pf::Error
// whose message contains `FILE:LINE: what was wrong (expected ...)`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <zlib.h>

namespace pf::proformer {

// Reads a file line by line. The path "-" means stdin. gzip input is
// recognised by its magic bytes (1f 8b) and decompressed; anything else is read
// unchanged (zlib's transparent mode does both). A UTF-8 byte-order mark
// (EF BB BF) at the start of the input is skipped.
class LineReader {
 public:
  // Opens `path`; throws pf::Error naming the file if it cannot be opened.
  explicit LineReader(std::string path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads the next line into `line`, without its '\n' and without a '\r'
  // before it. Returns false at the end of the input (a last line without a
  // trailing newline is still returned). Throws pf::Error naming the file on a
  // read error or a truncated gzip stream.
  bool next(std::string& line);

  const std::string& path() const { return path_; }
  // 1-based number of the line last returned by next() (0 before the first).
  int64_t line_number() const { return line_number_; }
  // "FILE:LINE" of the line last returned (or of `line`), for error messages;
  // stdin is shown as <stdin>.
  std::string where() const { return where(line_number_); }
  std::string where(int64_t line) const;
  // Uncompressed bytes consumed so far, newlines included.
  uint64_t bytes_read() const { return bytes_read_; }
  // Size in bytes of an uncompressed regular file; empty for gzip and stdin.
  std::optional<uint64_t> plain_file_size() const;

 private:
  bool refill();  // reads the next chunk into buffer_; false at the end

  std::string path_;
  gzFile file_ = nullptr;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;  // unread bytes are buffer_[begin_, end_)
  int64_t line_number_ = 0;
  uint64_t bytes_read_ = 0;
};

// One line of a DREAM training file. `sequence` points into the reader's
// buffer and is valid until the next call to next().
struct TrainingRecord {
  std::string_view sequence;  // as in the file, flanks included, A/C/G/T/N in either case
  float expression = 0;       // measured expression bin (0-17 scale)
};

// Reads `SEQUENCE<TAB>EXPRESSION` lines. Empty lines are skipped. A line with a
// missing or non-numeric (or non-finite) label, more than two columns, or a
// character outside ACGTN in the sequence throws pf::Error with FILE:LINE.
class TrainingTsvReader {
 public:
  explicit TrainingTsvReader(std::string path) : lines_(std::move(path)) {}
  // Fills `record` with the next line; false at the end of the file.
  bool next(TrainingRecord& record);
  const LineReader& lines() const { return lines_; }

 private:
  LineReader lines_;
  std::string line_;
};

enum class InputFormat {
  kAuto,   // decided by the first non-empty line: '>' -> kFasta, a tab -> kTsv, else kLines
  kFasta,  // ">id description" headers, sequence on one or more lines
  kTsv,    // DREAM txt/tsv: sequence in column 1, other columns ignored
  kLines,  // one sequence per line
};

// The format named `name` (auto, fasta, tsv, lines); throws pf::Error otherwise.
InputFormat input_format_from_name(const std::string& name);

// The fields of `text` between the separators, empty ones included
// ("a,,b" -> a, "", b); the views point into `text`.
std::vector<std::string_view> split(std::string_view text, char separator);

// One inference input sequence.
struct SequenceRecord {
  std::string id;        // FASTA: header up to the first whitespace; else the 0-based record index
  std::string sequence;  // as in the file (flanks, if any, included), A/C/G/T/N in either case
  int64_t line = 0;      // 1-based line where the record starts (FASTA: its header)
};

// Reads sequences for inference. Empty lines are skipped. The sequence is
// returned as read: checking its characters and length is the caller's job
// (run_inference), so that bad records can be skipped rather than fatal.
// Throws pf::Error with FILE:LINE for a broken file structure: a FASTA
// sequence line before any header, an empty FASTA header or a FASTA record
// without sequence.
class SequenceReader {
 public:
  explicit SequenceReader(std::string path, InputFormat format = InputFormat::kAuto);
  // Fills `record` with the next sequence; false at the end of the input.
  bool next(SequenceRecord& record);
  // The format in use (kAuto resolved once the first non-empty line is read).
  InputFormat format() const { return format_; }

 private:
  bool next_nonempty_line();  // into line_ (or the held-back line); false at the end
  bool next_fasta(SequenceRecord& record);

  LineReader lines_;
  InputFormat format_;
  std::string line_;
  bool holding_line_ = false;  // line_ was read but not consumed yet
  int64_t records_ = 0;  // records returned so far: the id of kTsv and kLines records
};

}  // namespace pf::proformer
