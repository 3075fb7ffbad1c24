// The bad-input corpus: pf-train, pf-infer, pf-eval and pf-design run as child processes
// on broken inputs, one per case. tests/bad_inputs/ holds the small text cases
// (the file name says what is wrong); large and binary cases (a 10 MB line,
// truncated gzip, corrupt checkpoints) are made here in a temporary directory
// from valid ones. A rejected input must give
//   - a non-zero exit code, not a signal (no crash);
//   - exactly one line on stderr, "PROGRAM: error: ..." naming the program
//     once, naming the input file (and the line or key where there is one)
//     and saying what is wrong;
//   - no output: pf-train's output.dir, pf-infer's --output and pf-eval's
//     --json do not exist afterwards (pf-train checks everything before it
//     creates output.dir).
// A few cases are accepted and tested as such: lower-case and CRLF training
// data, training promoters longer than the model (dropped and counted), and
// inference with --skip-invalid.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "nn/formats/safetensors.h"
#include "proformer/checkpoint.h"
#include "proformer/config.h"
#include "proformer/model.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

const std::string kSourceDir = PF_SOURCE_DIR;
const std::string kCases = kSourceDir + "/tests/bad_inputs/";
const std::string kDemoTrain = kSourceDir + "/data/demo/demo_train.txt";
const std::string kLabels = kSourceDir + "/data/public_leaderboard";

// The first `n` lines of the demo training data, newlines included.
std::string demo_lines(int n) {
  const std::string text = read_text(kDemoTrain);
  size_t end = 0;
  for (int i = 0; i < n && end != std::string::npos; ++i) end = text.find('\n', end) + 1;
  return text.substr(0, end);
}

// Checks how an app rejected its input (see the header comment): `input` is
// the file it must name, `words` what the message must also contain, and
// `output` the file or directory that must not exist afterwards.
void check_rejected(const std::vector<std::string>& argv, const std::string& input,
                    std::initializer_list<std::string> words, const fs::path& output) {
  const ProcessResult result = run_process(argv);
  INFO("stderr: ", result.err);
  CHECK(result.signal == 0);
  CHECK(result.exit_code != 0);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK((!result.err.empty() && result.err.back() == '\n'));
  CHECK(result.err.size() < 1000);  // no input echoed at length
  const std::string program = fs::path(argv[0]).filename().string();
  CHECK(result.err.rfind(program + ": error: ", 0) == 0);
  CHECK_FALSE(contains(result.err, ": error: " + program + ": "));  // the program named once
  CHECK(contains(result.err, fs::path(input).filename().string()));
  for (const std::string& word : words) CHECK(contains(result.err, word));
  CHECK_FALSE(fs::exists(output));
}

// A temporary directory with the apps' output paths, a tiny training config
// and, made on demand, a tiny valid checkpoint to corrupt.
struct BadInputs {
  TempDir tmp{"pf_test_bad_input"};
  const fs::path run_dir = tmp.path / "run";                 // pf-train's output.dir
  const std::string predictions = tmp.file("predictions.tsv");  // pf-infer's --output
  const std::string scores = tmp.file("scores.json");          // pf-eval's --json
  const std::string designs = tmp.file("designs.tsv");         // pf-design's --output

  // Two steps of the tiny model on `data`, into run_dir.
  std::vector<std::string> pf_train(const std::string& data, std::vector<std::string> extra = {}) {
    Config config = tiny_config(run_dir.string());
    config.data.train = data;
    config.data.max_lines = 0;
    config.data.val_fraction = 0.05;
    config.train.max_steps = 2;
    const std::string path = tmp.file("tiny.yaml");
    write_text(path, to_yaml(config));
    std::vector<std::string> argv = {app_path("pf-train"), path};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::vector<std::string> pf_infer(const std::string& checkpoint, const std::string& input,
                                    std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {app_path("pf-infer"), "--checkpoint", checkpoint, "--output", predictions};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(input);
    return argv;
  }
  // pf-design from 2 random starts, or from `starts` when given.
  std::vector<std::string> pf_design(std::vector<std::string> extra, const std::string& starts = "") {
    std::vector<std::string> argv = {app_path("pf-design"), "--checkpoint", checkpoint(), "--rounds", "1",
                                     "--output", designs};
    if (starts.empty()) argv.insert(argv.end(), {"--random", "2"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (!starts.empty()) argv.push_back(starts);
    return argv;
  }
  std::vector<std::string> pf_eval(const std::string& input) {
    return {app_path("pf-eval"), "--predictions", input, "--labels", kLabels, "--json", scores};
  }

  // A valid checkpoint of the untrained tiny model; returns its model file.
  std::string checkpoint() {
    const Config config = tiny_config(run_dir.string());
    const Proformer model(config.model, 1);
    TrainState state;
    state.label_stats = {11.0, 2.5};
    save_checkpoint(tmp.file("tiny"), model, nullptr, state, to_yaml(config));
    return model_file(tmp.file("tiny"));
  }
  // The tiny checkpoint with `from` replaced by `to` in its model_config metadata.
  std::string checkpoint_with_model_config(const std::string& name, const std::string& from, const std::string& to) {
    nn::SafetensorsFile file = nn::load_safetensors(checkpoint());
    std::string& json = file.metadata.at("model_config");
    REQUIRE(contains(json, from));
    json.replace(json.find(from), from.size(), to);
    const std::string path = tmp.file(name);
    nn::save_safetensors(path, nn::NamedTensors(file.tensors.begin(), file.tensors.end()), file.metadata);
    return path;
  }
  // A model file of `header` (its 8-byte length, then the JSON) and `data`,
  // written byte by byte: save_safetensors would refuse to write it.
  std::string raw_checkpoint(const std::string& name, const std::string& header, const std::string& data) {
    const uint64_t header_length = header.size();
    const std::string path = tmp.file(name);
    write_text(path, std::string(reinterpret_cast<const char*>(&header_length), 8) + header + data);
    return path;
  }
  // Something for pf-infer to read once the checkpoint has loaded.
  std::string sequences() const { return kSourceDir + "/data/demo/examples.fa"; }

  // Trains on `data`, which must succeed, and returns the run's stderr.
  std::string train_ok(const std::string& data) {
    const ProcessResult result = run_process(pf_train(data));
    INFO("stderr: ", result.err);
    REQUIRE(result.exit_code == 0);
    REQUIRE(fs::exists(run_dir / "last.model.safetensors"));
    return result.err;
  }
  // Trains on the corpus file `name` and on a copy of it rewritten by
  // `normalise`; the two runs must end with bit-identical parameters.
  void check_trains_like_normalised(const std::string& name, const std::function<void(std::string&)>& normalise) {
    train_ok(kCases + name);
    fs::rename(run_dir, tmp.path / "as_given");
    std::string text = read_text(kCases + name);
    normalise(text);
    const std::string normalised = tmp.file("normalised_" + name);
    write_text(normalised, text);
    train_ok(normalised);
    CHECK(differing_tensors((tmp.path / "as_given" / "last.model.safetensors").string(),
                            (run_dir / "last.model.safetensors").string())
              .empty());
  }
};

}  // namespace

// ---- pf-train: training data ----

TEST_CASE_FIXTURE(BadInputs, "bad input: empty training file") {
  check_rejected(pf_train(kCases + "train_empty.txt"), "train_empty.txt", {"no promoters", "empty"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: training data with a character outside ACGTN") {
  check_rejected(pf_train(kCases + "train_invalid_character.txt"), "train_invalid_character.txt:3:",
                 {"invalid character 'X'", "column 41"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: training line without a label") {
  check_rejected(pf_train(kCases + "train_missing_label.txt"), "train_missing_label.txt:2:",
                 {"missing expression label"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: non-numeric training label") {
  check_rejected(pf_train(kCases + "train_non_numeric_label.txt"), "train_non_numeric_label.txt:2:",
                 {"non-numeric expression label 'high'"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: training line with three columns") {
  check_rejected(pf_train(kCases + "train_three_columns.txt"), "train_three_columns.txt:3:",
                 {"more than two columns"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: fewer training promoters than one batch") {
  check_rejected(pf_train(kCases + "train_fewer_than_a_batch.txt"), "train_fewer_than_a_batch.txt",
                 {"make no batch", "train.batch_size = 8"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: training labels that are all equal") {
  check_rejected(pf_train(kCases + "train_constant_labels.txt"), "train_constant_labels.txt",
                 {"cannot z-score the labels", "labels equal 12"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: training file with a 10 MB line") {
  const std::string data = tmp.file("train_10mb_line.txt");
  write_text(data, demo_lines(2) + std::string(10'000'000, 'A') + "\n" + demo_lines(3));
  check_rejected(pf_train(data), "train_10mb_line.txt:3:", {"missing expression label"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: training label of 10 MB") {
  const std::string data = tmp.file("train_10mb_label.txt");
  write_text(data, demo_lines(2) + "ACGT\t" + std::string(10'000'000, '7') + "x\n");
  check_rejected(pf_train(data), "train_10mb_label.txt:3:", {"non-numeric expression label '7777"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: truncated gzip training file") {
  const std::string whole = tmp.file("whole.txt.gz"), data = tmp.file("train_truncated.txt.gz");
  write_gzip(whole, demo_lines(400));
  const std::string bytes = read_text(whole);
  write_text(data, bytes.substr(0, bytes.size() / 2));
  check_rejected(pf_train(data), "train_truncated.txt.gz", {"unexpected end of file", "after line"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: init_from checkpoint that is not a safetensors file") {
  const std::string checkpoint = kCases + "checkpoint_not_safetensors.model.safetensors";
  check_rejected(pf_train(kDemoTrain, {"train.init_from=" + checkpoint}), "checkpoint_not_safetensors",
                 {"header length", "not a safetensors file"}, run_dir);
}

// ---- pf-train: accepted training data ----

TEST_CASE_FIXTURE(BadInputs, "bad input: lower-case training data is accepted and read as upper case") {
  check_trains_like_normalised("train_lower_case.txt", [](std::string& text) {
    std::transform(text.begin(), text.end(), text.begin(), [](char c) { return char(std::toupper(c)); });
  });
}

TEST_CASE_FIXTURE(BadInputs, "bad input: CRLF training file is accepted and read as LF") {
  check_trains_like_normalised("train_crlf.txt", [](std::string& text) { std::erase(text, '\r'); });
}

TEST_CASE_FIXTURE(BadInputs, "bad input: a training promoter longer than the model is dropped and counted") {
  const std::string err = train_ok(kCases + "train_sequence_too_long.txt");
  CHECK(contains(err, "train_sequence_too_long.txt: 20 promoters (1 dropped: longer than 100 nt)"));
}

// ---- pf-train: config ----

TEST_CASE_FIXTURE(BadInputs, "bad input: config with an unknown key") {
  check_rejected({app_path("pf-train"), kCases + "config_unknown_key.yaml", "output.dir=" + run_dir.string()},
                 "config_unknown_key.yaml:4:", {"unknown key 'model.dimm'"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: config value of the wrong type") {
  check_rejected({app_path("pf-train"), kCases + "config_wrong_type.yaml", "output.dir=" + run_dir.string()},
                 "config_wrong_type.yaml:3:", {"train.epochs", "expected an integer", "'three'"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: config with a negative batch size") {
  check_rejected({app_path("pf-train"), kCases + "config_negative_batch_size.yaml", "output.dir=" + run_dir.string()},
                 "config_negative_batch_size.yaml:2:", {"train.batch_size", "must be > 0", "'-8'"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: config with a YAML syntax error") {
  check_rejected({app_path("pf-train"), kCases + "config_syntax_error.yaml", "output.dir=" + run_dir.string()},
                 "config_syntax_error.yaml:", {"YAML syntax error"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: config value spanning lines is quoted on one line") {
  check_rejected({app_path("pf-train"), kCases + "config_multi_line_value.yaml", "output.dir=" + run_dir.string()},
                 "config_multi_line_value.yaml:2:", {"train.batch_size", "expected an integer", "'8\\n16\\n'"},
                 run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: config naming a missing data file") {
  check_rejected({app_path("pf-train"), kCases + "config_missing_data_file.yaml", "output.dir=" + run_dir.string()},
                 "no_such_training_file.txt", {"cannot open", "No such file"}, run_dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: config override with a negative batch size") {
  check_rejected(pf_train(kDemoTrain, {"train.batch_size=-1"}), "train.batch_size=-1", {"must be > 0"}, run_dir);
}

// ---- pf-infer: sequences ----

TEST_CASE_FIXTURE(BadInputs, "bad input: inference sequence with a character outside ACGTN") {
  check_rejected(pf_infer(checkpoint(), kCases + "infer_invalid_character.txt"), "infer_invalid_character.txt:2:",
                 {"invalid character '@'"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: inference sequence longer than the model") {
  check_rejected(pf_infer(checkpoint(), kCases + "infer_sequence_too_long.txt"), "infer_sequence_too_long.txt:2:",
                 {"sequence of 160 nt", "longer than the model's 100", "--skip-invalid"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: inference sequence longer than the model is skipped with --skip-invalid") {
  const ProcessResult result =
      run_process(pf_infer(checkpoint(), kCases + "infer_sequence_too_long.txt", {"--skip-invalid"}));
  INFO("stderr: ", result.err);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.err, "infer_sequence_too_long.txt:2: skipped: sequence of 160 nt"));
  CHECK(contains(result.err, "2 sequences predicted, 1 invalid skipped"));
  const std::string output = read_text(predictions);
  CHECK(std::count(output.begin(), output.end(), '\n') == 3);  // the header and two predictions
}

TEST_CASE_FIXTURE(BadInputs, "bad input: inference line of 10 MB") {
  const std::string input = tmp.file("infer_10mb_line.txt");
  write_text(input, "ACGTACGTACGT\n" + std::string(10'000'000, 'C') + "\nACGTACGTACGT\n");
  check_rejected(pf_infer(checkpoint(), input), "infer_10mb_line.txt:2:", {"sequence of 10000000 nt"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: truncated gzip inference file") {
  const std::string whole = tmp.file("whole.txt.gz"), input = tmp.file("infer_truncated.txt.gz");
  // Fewer sequences than a batch, so that no prediction runs before the error.
  std::string text;
  uint32_t random = 1;
  for (int i = 0; i < 200; ++i) {
    for (int j = 0; j < 80; ++j) text += "ACGT"[(random = random * 1664525 + 1013904223) >> 30];
    text += "\n";
  }
  write_gzip(whole, text);
  const std::string bytes = read_text(whole);
  write_text(input, bytes.substr(0, bytes.size() / 2));
  check_rejected(pf_infer(checkpoint(), input), "infer_truncated.txt.gz", {"unexpected end of file"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: FASTA without a header") {
  check_rejected(pf_infer(checkpoint(), kCases + "infer_fasta_without_header.fa", {"--input-format", "fasta"}),
                 "infer_fasta_without_header.fa:1:", {"sequence line before any header"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: FASTA record with an empty header") {
  check_rejected(pf_infer(checkpoint(), kCases + "infer_fasta_empty_header.fa"), "infer_fasta_empty_header.fa:3:",
                 {"empty header"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-infer option that is not a number") {
  check_rejected(pf_infer(checkpoint(), sequences(), {"--batch-size", "many"}), "--batch-size",
                 {"must be an integer >= 1", "'many'"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-infer --device that is not one") {
  check_rejected(pf_infer(checkpoint(), sequences(), {"--device", "gpu"}), "device",
                 {"must be cpu, cuda or cuda:N", "'gpu'"}, predictions);
}

// ---- pf-infer: attributions ----

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-infer --attributions with an unknown method") {
  check_rejected(pf_infer(checkpoint(), sequences(), {"--attributions", "gradcam"}), "gradcam",
                 {"unknown method", "saliency, input-x-gradient, integrated-gradients or ism"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-infer --ig-steps 0") {
  check_rejected(pf_infer(checkpoint(), sequences(), {"--attributions", "integrated-gradients", "--ig-steps", "0"}),
                 "--ig-steps", {"must be an integer >= 1", "'0'"}, predictions);
  check_rejected(pf_infer(checkpoint(), sequences(), {"--attributions", "saliency", "--ig-steps", "8"}), "--ig-steps",
                 {"needs --attributions integrated-gradients"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-infer --attributions into a directory that cannot be made") {
  write_text(tmp.file("a_file"), "not a directory\n");
  const std::string dir = tmp.file("a_file") + "/attributions";
  std::vector<std::string> argv = {app_path("pf-infer"), "--checkpoint", checkpoint(), "--attributions", "saliency",
                                   "--output", dir, sequences()};
  check_rejected(argv, "a_file/attributions", {"cannot create the output directory"}, dir);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-infer --attributions stopped by a bad record leaves no partial npz") {
  // Batches of one: the first sequence is attributed and streamed before line 2 stops the run.
  check_rejected(pf_infer(checkpoint(), kCases + "infer_invalid_character.txt",
                          {"--attributions", "saliency", "--batch-size", "1"}),
                 "infer_invalid_character.txt:2:", {"invalid character '@'"}, fs::path(predictions) / "ohe.npz");
  CHECK(fs::is_empty(predictions));  // no attr.npz, TSV or temporary file either
}

// ---- pf-infer: checkpoints ----

TEST_CASE_FIXTURE(BadInputs, "bad input: truncated checkpoint") {
  const std::string bytes = read_text(checkpoint()), path = tmp.file("truncated.model.safetensors");
  write_text(path, bytes.substr(0, bytes.size() - 100));
  check_rejected(pf_infer(path, sequences()), "truncated.model.safetensors", {"past the end of the data section"},
                 predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: checkpoint header length past the end of the file") {
  std::string bytes = read_text(checkpoint());
  const uint64_t header_length = bytes.size();  // 8 + the real header + data: past the end
  bytes.replace(0, 8, reinterpret_cast<const char*>(&header_length), 8);
  const std::string path = tmp.file("header_past_end.model.safetensors");
  write_text(path, bytes);
  check_rejected(pf_infer(path, sequences()), "header_past_end.model.safetensors",
                 {"header length " + std::to_string(header_length) + " runs past the end of the file"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: checkpoint tensor shapes that do not match its model_config") {
  // A smaller model than the weights: a larger one is rejected before it is built (the next case).
  const std::string path = checkpoint_with_model_config("wrong_shape.model.safetensors", "\"dim\":16", "\"dim\":8");
  check_rejected(pf_infer(path, sequences()), "wrong_shape.model.safetensors", {"has shape", "the model expects"},
                 predictions);
}

// Found with fuzz_checkpoint's seed, edited by hand: load_model built the model
// before it compared the weights, so a size with more digits allocated far
// more than the file holds (and 2 * seq_len could overflow).
TEST_CASE_FIXTURE(BadInputs, "bad input: checkpoint model_config that asks for a huge model") {
  const std::string path =
      checkpoint_with_model_config("huge_dim.model.safetensors", "\"dim\":16", "\"dim\":1600000");
  check_rejected(pf_infer(path, sequences()), "huge_dim.model.safetensors",
                 {"model_config describes a model of", "parameters but the file holds"}, predictions);
  const std::string overflow = checkpoint_with_model_config("huge_seq_len.model.safetensors", "\"seq_len\":100",
                                                            "\"seq_len\":4611686018427387904");  // 2^62
  check_rejected(pf_infer(overflow, sequences()), "huge_seq_len.model.safetensors",
                 {"model_config describes a model of over 2^63 parameters"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: checkpoint model_config with a negative size") {
  const std::string path = checkpoint_with_model_config("negative_dim.model.safetensors", "\"dim\":16", "\"dim\":-16");
  check_rejected(pf_infer(path, sequences()), "negative_dim.model.safetensors", {"'dim' must be > 0, got -16"}, predictions);
}

// Found by fuzz_safetensors: nlohmann::json throws out_of_range, not a
// parse_error, for a number too large for a double, and it escaped.
TEST_CASE_FIXTURE(BadInputs, "bad input: checkpoint header with a number out of range") {
  const std::string path = raw_checkpoint("number_out_of_range.model.safetensors",
                                          R"({"w":{"dtype":"F32","shape":[4E848],"data_offsets":[0,4]}})",
                                          std::string(4, '\0'));
  check_rejected(pf_infer(path, sequences()), "number_out_of_range.model.safetensors",
                 {"the header is not valid JSON", "number overflow parsing '4E848'"}, predictions);
}

// Not found by the fuzzers (their inputs are 16 KB at most): nlohmann::json
// takes about 75 bytes of memory per "[", so a header of 100 MB (the limit)
// nested that deep took over 7 GB; the same for the model_config string.
TEST_CASE_FIXTURE(BadInputs, "bad input: checkpoint JSON nested thousands deep") {
  const std::string deep(100'000, '[');
  check_rejected(pf_infer(raw_checkpoint("deep_header.model.safetensors", deep, ""), sequences()),
                 "deep_header.model.safetensors", {"the header nests deeper than 8 levels"}, predictions);
  const std::string path = checkpoint_with_model_config("deep_model_config.model.safetensors", "\"dim\":16",
                                                        "\"dim\":" + deep + std::string(100'000, ']'));
  check_rejected(pf_infer(path, sequences()), "deep_model_config.model.safetensors",
                 {"model config", "the config nests deeper than 2 levels"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: checkpoint with an unknown dtype") {
  std::string bytes = read_text(checkpoint());
  for (size_t at = bytes.find("\"F32\""); at != std::string::npos; at = bytes.find("\"F32\"", at)) bytes[at + 2] = '9';
  const std::string path = tmp.file("unknown_dtype.model.safetensors");
  write_text(path, bytes);
  check_rejected(pf_infer(path, sequences()), "unknown_dtype.model.safetensors", {"unknown dtype 'F92'"},
                 predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: checkpoint that is not a safetensors file") {
  check_rejected(pf_infer(kCases + "checkpoint_not_safetensors.model.safetensors", sequences()),
                 "checkpoint_not_safetensors.model.safetensors", {"not a safetensors file"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: safetensors file that is not a Proformer checkpoint") {
  const std::string path = tmp.file("plain.model.safetensors");
  nn::save_safetensors(path, {{"w", Tensor::from_vector(std::vector<float>{1, 2}, {2})}});
  check_rejected(pf_infer(path, sequences()), "plain.model.safetensors", {"metadata lacks 'format'"}, predictions);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: missing checkpoint") {
  check_rejected(pf_infer(tmp.file("nothing_here"), sequences()), "nothing_here.model.safetensors",
                 {"cannot read", "No such file"}, predictions);
}

// ---- pf-design ----

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-design unknown search method") {
  check_rejected(pf_design({"--method", "anneal"}), "--method", {"must be greedy, beam or evolve", "'anneal'"}, designs);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-design target that is not a number") {
  check_rejected(pf_design({"--target", "high"}), "--target", {"must be max, min or a number", "'high'"}, designs);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-design edit budget below 0") {
  check_rejected(pf_design({"--max-edits", "-1"}), "--max-edits", {"must be an integer >= 0", "'-1'"}, designs);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-design avoided motif with a letter other than ACGT") {
  check_rejected(pf_design({"--avoid", "GGTCTC,GAXTC"}), "--avoid", {"'GAXTC'", "'X' at position 3"}, designs);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-design constraints that no sequence can meet") {
  check_rejected(pf_design({"--avoid", "C", "--gc-min", "0.2"}), "avoided motifs",
                 {"no promoter can meet the constraints", "GC content in [0.2, 1]"}, designs);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: pf-design start sequence that breaks a constraint") {
  check_rejected(pf_design({"--avoid", "GAGACC"}, kCases + "design_start_with_avoided_motif.txt"),
                 "design_start_with_avoided_motif.txt:2:", {"GGTCTC (reverse complement of the avoided GAGACC)"},
                 designs);
}

// ---- pf-eval ----

TEST_CASE_FIXTURE(BadInputs, "bad input: predictions JSON without an index the labels need") {
  check_rejected(pf_eval(kCases + "eval_missing_index.json"), "eval_missing_index.json",
                 {"no prediction for test index 5", "subset 'all'"}, scores);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: predictions that are not valid JSON") {
  check_rejected(pf_eval(kCases + "eval_not_json.json"), "eval_not_json.json", {"not valid JSON"}, scores);
}

// Parsed without a bound, this valid JSON took about 75 bytes of memory per
// "[" and then crashed pf-eval (a stack overflow quoting the value in the
// error message, one recursion per level); the bound stops it at the third "[".
TEST_CASE_FIXTURE(BadInputs, "bad input: predictions JSON nested a million deep") {
  const std::string path = tmp.file("deep_predictions.json");
  write_text(path, "{\"0\": " + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}");
  check_rejected(pf_eval(path), "deep_predictions.json", {"the file nests deeper than 2 levels"}, scores);
}

TEST_CASE_FIXTURE(BadInputs, "bad input: empty predictions file") {
  check_rejected(pf_eval(kCases + "train_empty.txt"), "train_empty.txt", {"no predictions"}, scores);
}
