// pf-infer: predict promoter expression with a trained Proformer checkpoint.
//
//   pf-infer --checkpoint runs/demo/best sequences.fa > predictions.tsv
//   pf-infer --checkpoint runs/demo/best --format dream-json test_sequences.txt.gz --output submission.json
#include <omp.h>

#include <cstdio>
#include <memory>

#include "core/atomic_file.h"
#include "proformer/cli.h"
#include "proformer/inference.h"

using namespace pf;
using namespace pf::proformer;

namespace {

InputFormat parse_input_format(const std::string& name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "fasta") return InputFormat::kFasta;
  if (name == "tsv") return InputFormat::kTsv;
  if (name == "lines") return InputFormat::kLines;
  PF_FAIL("pf-infer", "--input-format must be auto, fasta, tsv or lines, got '", name, "'");
}

int main_body(int argc, char** argv) {
  CommandLine cli("pf-infer", "pf-infer --checkpoint CKPT [options] [INPUT ...]",
                  "Predicts expression for each sequence of the inputs (DREAM txt/tsv, FASTA or one sequence per\n"
                  "line; plain or gzip; '-' or nothing for stdin). Sequences may carry the plasmid flanks or not.\n"
                  "TSV output columns: id, sequence, prediction (training label scale), prediction_z.");
  cli.option("checkpoint", "model checkpoint (a .model.safetensors file or its prefix, e.g. runs/demo/best)");
  cli.option("output", "output file (written atomically); stdout when not given");
  cli.option("format", "output format: tsv or dream-json ({\"0\": pred, ...})", "tsv");
  cli.option("input-format", "auto, fasta, tsv or lines", "auto");
  cli.option("batch-size", "sequences per forward pass", "256");
  cli.option("threads", "CPU threads (0 = all cores)", "0");
  cli.flag("skip-invalid", "report and skip bad records instead of stopping");
  if (!cli.parse(argc, argv)) return 0;
  PF_CHECK(cli.has("checkpoint"), "pf-infer", "--checkpoint is required (see --help)");
  const std::string format = cli.get("format");
  PF_CHECK(format == "tsv" || format == "dream-json", "pf-infer", "--format must be tsv or dream-json, got '", format,
           "'");
  if (const int64_t threads = cli.get_int("threads", 0); threads > 0) omp_set_num_threads(int(threads));

  LoadedModel model = load_model(cli.get("checkpoint"));
  InferenceOptions options;
  options.batch_size = cli.get_int("batch-size", 1);
  options.skip_invalid = cli.enabled("skip-invalid");
  options.format = parse_input_format(cli.get("input-format"));
  std::vector<std::string> inputs = cli.positional();
  if (inputs.empty()) inputs.push_back("-");

  // Output goes to an atomic file (or stdout): an error midway leaves no partial file.
  std::unique_ptr<AtomicFile> file;
  if (cli.has("output")) file = std::make_unique<AtomicFile>(cli.get("output"));
  auto emit = [&](const std::string& text) {
    if (file)
      file->write(text);
    else
      std::fwrite(text.data(), 1, text.size(), stdout);
  };
  char number[32];
  bool first = true;
  emit(format == "tsv" ? "id\tsequence\tprediction\tprediction_z\n" : "{");
  InferenceStats stats = run_inference(model, inputs, options, [&](const Prediction& p) {
    if (format == "tsv") {
      std::snprintf(number, sizeof number, "%.6g\t%.6g", p.value, p.z);
      emit(p.id + "\t" + p.sequence + "\t" + number + "\n");
    } else {
      std::snprintf(number, sizeof number, "%.6g", p.value);
      emit(std::string(first ? "" : ", ") + "\"" + p.id + "\": " + number);
    }
    first = false;
  });
  if (format == "dream-json") emit("}\n");
  if (file) file->commit();
  std::fprintf(stderr, "pf-infer: %ld sequences predicted%s\n", long(stats.predicted),
               stats.skipped ? (", " + std::to_string(stats.skipped) + " invalid skipped").c_str() : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("pf-infer", main_body, argc, argv); }
