#include "proformer/data/reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "proformer/data/sequence.h"

namespace pf::proformer {
namespace {

constexpr unsigned kChunkBytes = 1u << 16;  // read size and zlib's internal buffer size
constexpr size_t kMaxQuoted = 40;           // characters of a bad field that error messages show
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

// Throws unless every character of `bases` is A, C, G, T or N; `first_column`
// is the 1-based column of bases[0] on the current line.
void check_bases(const char* op, const LineReader& lines, std::string_view bases, int64_t first_column) {
  const size_t bad = find_invalid_base(bases);
  if (bad != std::string_view::npos)
    PF_FAIL(op, lines.where(), ": invalid character ", describe_char(bases[bad]), " at column ",
            first_column + int64_t(bad), " (expected A, C, G, T or N)");
}

std::string_view trim_spaces(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

// ---- LineReader ----

LineReader::LineReader(std::string path) : path_(std::move(path)), buffer_(kChunkBytes) {
  if (path_ == "-") {
    // gzclose closes the descriptor it was given, so hand it a duplicate of stdin.
    const int fd = dup(STDIN_FILENO);
    if (fd >= 0) {
      file_ = gzdopen(fd, "rb");
      if (file_ == nullptr) close(fd);
    }
  } else {
    file_ = gzopen(path_.c_str(), "rb");
  }
  PF_CHECK(file_ != nullptr, "open input", display_name(path_), ": cannot open (", std::strerror(errno), ")");
  gzbuffer(file_, kChunkBytes);
}

LineReader::~LineReader() {
  if (file_ != nullptr) gzclose(file_);
}

std::string LineReader::where(int64_t line) const { return display_name(path_) + ":" + std::to_string(line); }

std::optional<uint64_t> LineReader::plain_file_size() const {
  if (path_ == "-" || !gzdirect(file_)) return std::nullopt;
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(path_, error);
  if (error) return std::nullopt;
  return size;
}

bool LineReader::refill() {
  const int n = gzread(file_, buffer_.data(), unsigned(buffer_.size()));
  int status = Z_OK;
  const std::string_view message = gzerror(file_, &status);
  // At the end zlib reports Z_BUF_ERROR ("unexpected end of file") when the
  // gzip stream stopped before its trailer: a truncated file, not a clean end.
  if (n < 0 || (n == 0 && status != Z_OK)) {
    // zlib's message reads "NAME: what", NAME being the path it opened or "<fd:N>" for stdin.
    const size_t name_length = path_ == "-" ? message.find(": ") : path_.size();
    const std::string_view what = message.substr(std::min(message.size(), name_length + 2));
    PF_FAIL("read input", display_name(path_), ": ", status == Z_ERRNO ? std::strerror(errno) : what,
            " after line ", line_number_, " (expected a complete plain or gzip file)");
  }
  begin_ = 0;
  end_ = size_t(n);
  return n > 0;
}

bool LineReader::next(std::string& line) {
  line.clear();
  bool found_any = false;  // distinguishes an empty line from the end of the input
  for (;;) {
    if (begin_ == end_ && !refill()) break;
    found_any = true;
    const char* start = buffer_.data() + begin_;
    const size_t available = end_ - begin_;
    const char* newline = static_cast<const char*>(std::memchr(start, '\n', available));
    const size_t taken = newline != nullptr ? size_t(newline - start) : available;
    line.append(start, taken);
    if (newline == nullptr) {
      begin_ = end_;
      bytes_read_ += taken;
      continue;
    }
    begin_ += taken + 1;
    bytes_read_ += taken + 1;
    break;
  }
  if (!found_any) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  // A UTF-8 byte-order mark before the first line (Excel and some Windows
  // tools write one) is not part of the data.
  if (line_number_ == 0 && line.starts_with(kUtf8Bom)) line.erase(0, kUtf8Bom.size());
  ++line_number_;
  return true;
}

// ---- TrainingTsvReader ----

bool TrainingTsvReader::next(TrainingRecord& record) {
  constexpr const char* op = "read DREAM training file";
  constexpr const char* layout = " (expected SEQUENCE<TAB>EXPRESSION)";
  do {
    if (!lines_.next(line_)) return false;
  } while (line_.empty());

  const std::string_view line = line_;
  const size_t tab = line.find('\t');
  if (tab == std::string_view::npos) PF_FAIL(op, lines_.where(), ": missing expression label", layout);
  const std::string_view sequence = line.substr(0, tab);
  const std::string_view label = trim_spaces(line.substr(tab + 1));
  if (sequence.empty()) PF_FAIL(op, lines_.where(), ": empty sequence", layout);
  if (label.empty()) PF_FAIL(op, lines_.where(), ": missing expression label", layout);
  if (label.find('\t') != std::string_view::npos) PF_FAIL(op, lines_.where(), ": more than two columns", layout);
  check_bases(op, lines_, sequence, 1);

  float value = 0;
  const auto [end, error] = std::from_chars(label.data(), label.data() + label.size(), value);
  if (error != std::errc{} || end != label.data() + label.size() || !std::isfinite(value))
    PF_FAIL(op, lines_.where(), ": non-numeric expression label '", excerpt(label, kMaxQuoted),
            "' (expected a finite number)");

  record.sequence = sequence;
  record.expression = value;
  return true;
}

// ---- SequenceReader ----

SequenceReader::SequenceReader(std::string path, InputFormat format) : lines_(std::move(path)), format_(format) {}

bool SequenceReader::next_nonempty_line() {
  if (holding_line_) {
    holding_line_ = false;
    return true;
  }
  while (lines_.next(line_))
    if (!line_.empty()) return true;
  return false;
}

bool SequenceReader::next(SequenceRecord& record) {
  if (format_ == InputFormat::kAuto) {
    if (!next_nonempty_line()) return false;
    holding_line_ = true;
    format_ = line_[0] == '>'                          ? InputFormat::kFasta
              : line_.find('\t') != std::string::npos ? InputFormat::kTsv
                                                       : InputFormat::kLines;
  }
  if (format_ == InputFormat::kFasta) return next_fasta(record);

  if (!next_nonempty_line()) return false;
  const std::string_view line = line_;
  const std::string_view sequence = format_ == InputFormat::kTsv ? line.substr(0, line.find('\t')) : line;
  record.id = std::to_string(records_++);
  record.sequence.assign(sequence);
  record.line = lines_.line_number();
  return true;
}

bool SequenceReader::next_fasta(SequenceRecord& record) {
  constexpr const char* op = "read FASTA";
  if (!next_nonempty_line()) return false;
  // Sequence lines are consumed together with their header below, so a
  // non-header line here can only come before the first header.
  if (line_[0] != '>') PF_FAIL(op, lines_.where(), ": sequence line before any header (expected '>ID')");
  const std::string_view header = std::string_view(line_).substr(1);
  record.id.assign(header.substr(0, header.find_first_of(" \t")));
  if (record.id.empty()) PF_FAIL(op, lines_.where(), ": empty header (expected '>ID')");
  record.line = lines_.line_number();
  record.sequence.clear();
  while (next_nonempty_line()) {
    if (line_[0] == '>') {
      holding_line_ = true;  // the next record's header
      break;
    }
    record.sequence += line_;
  }
  if (record.sequence.empty())
    PF_FAIL(op, lines_.where(record.line), ": record '", excerpt(record.id),
            "' has no sequence (expected sequence lines after the header)");
  return true;
}

InputFormat input_format_from_name(const std::string& name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "fasta") return InputFormat::kFasta;
  if (name == "tsv") return InputFormat::kTsv;
  if (name == "lines") return InputFormat::kLines;
  PF_FAIL("input format", "expected auto, fasta, tsv or lines, got '", excerpt(name), "'");
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (size_t end; (end = text.find(separator, start)) != std::string_view::npos; start = end + 1)
    fields.push_back(text.substr(start, end - start));
  fields.push_back(text.substr(start));
  return fields;
}

}  // namespace pf::proformer
