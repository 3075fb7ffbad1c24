// pf-infer: predict promoter expression with a trained Proformer checkpoint.
//
//   pf-infer --checkpoint runs/demo/best sequences.fa > predictions.tsv
//   pf-infer --checkpoint runs/demo/best --format dream-json test_sequences.txt.gz --output submission.json
//   pf-infer --checkpoint runs/demo/best --variants pairs.tsv            (variant effects, variants.h)
//   pf-infer --checkpoint runs/demo/best --ism --plot ism/ examples.fa   (in-silico mutagenesis, ism.h)
//   pf-infer --checkpoint runs/demo/best --attributions saliency --output attr/ --plot logos/ examples.fa
//                                                                         (attributions, attribution.h)
//   pf-infer --checkpoint runs/demo/best --vcf calls.vcf.gz --genome genome.fa --regions promoters.bed
//                                               (variant effects in promoters of a genome, genome_variants.h)
//   pf-infer --checkpoint runs/demo/best --genome genome.fa --regions promoters.bed   (native promoters)
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <utility>

#include "apps/command_line.h"
#include "apps/devices.h"
#include "apps/run_options.h"
#include "core/atomic_file.h"
#include "proformer/api/predictor.h"
#include "reports/attribution_files.h"
#include "reports/logo.h"
#include "reports/plots.h"
#include "reports/progress_line.h"
#include "reports/tsv.h"

using namespace pf;
using namespace pf::proformer;

namespace {

using Emit = std::function<void(const std::string&)>;

// The default mode: one prediction per input sequence, as TSV or DREAM JSON.
void predict_expression(const Predictor& model, const std::vector<std::string>& inputs,
                        const InferenceOptions& options, const std::string& format, const Emit& emit) {
  char number[32];
  bool first = true;
  emit(format == "tsv" ? "id\tsequence\tprediction\tprediction_z" +
                             spread_tsv_header("prediction", model.models().size(), false) + "\n"
                       : "{");
  InferenceStats stats = model.predict_files(inputs, options, [&](const Prediction& p) {
    if (format == "tsv") {
      std::snprintf(number, sizeof number, "%.6g\t%.6g", p.value, p.z);
      emit(p.id + "\t" + p.sequence + "\t" + number + spread_tsv_columns(p.spread, false) + "\n");
    } else {
      std::snprintf(number, sizeof number, "%.6g", p.value);
      emit(std::string(first ? "" : ", ") + "\"" + p.id + "\": " + number);
    }
    first = false;
  });
  if (format == "dream-json") emit("}\n");
  std::fprintf(stderr, "pf-infer: %ld sequences predicted%s\n", long(stats.predicted),
               stats.skipped ? (", " + std::to_string(stats.skipped) + " invalid skipped").c_str() : "");
}

// --variants: ref and alt predictions and their difference per pair.
void predict_variant_effects(const Predictor& model, const std::string& pairs, const Emit& emit) {
  emit(variant_tsv_header(model.models().size()));
  const int64_t n = model.variant_effects_file(pairs, [&](const VariantEffect& e) { emit(variant_tsv_row(e)); });
  std::fprintf(stderr, "pf-infer: %ld variant pairs predicted\n", long(n));
}

// --ism: the L x 4 effect matrix of each input sequence, and with plot_dir a heat map.
void mutagenesis(const Predictor& model, const std::vector<std::string>& inputs, const InferenceOptions& options,
                 const std::string& plot_dir, const Emit& emit) {
  emit(ism_tsv_header(model.models().size()));
  int64_t done = 0;
  const int64_t skipped = model.ism_files(inputs, options, [&](const IsmResult& result) {
    emit(ism_tsv_rows(result));
    if (!plot_dir.empty()) plot_ism(result, plot_dir);
    ++done;
  });
  std::fprintf(stderr, "pf-infer: in-silico mutagenesis of %ld sequences%s\n", long(done),
               skipped ? (", " + std::to_string(skipped) + " invalid skipped").c_str() : "");
}

// The number of records of the inputs, for an ETA; 0 (unknown) when one is stdin.
int64_t count_records(const std::vector<std::string>& inputs, InputFormat format) {
  int64_t n = 0;
  for (const std::string& input : inputs) {
    if (input == "-") return 0;
    SequenceReader reader(input, format);
    for (SequenceRecord record; reader.next(record);) ++n;
  }
  return n;
}

// --attributions: TF-MoDISco's files in `dir` (reports/attribution_files.h) and with
// plot_dir a logo per sequence, SVG and PNG; progress and ETA on stderr.
void attributions(const Predictor& model, const std::vector<std::string>& inputs, const InferenceOptions& options,
                  const AttributionOptions& method, const std::string& dir, const std::string& plot_dir) {
  AttributionFiles files(dir, model.seq_len(), model.models().size());
  Progress progress("attributions", count_records(inputs, options.format), "seq", 8);
  int64_t done = 0, reported = 0;  // attributions come in groups of batch_size: one update per group
  const int64_t batch_size = model.settings().batch_size;
  const int64_t skipped = model.attribute_files(inputs, options, method, [&](const Attribution& a) {
    files.write(a);
    if (!plot_dir.empty()) {
      write_logo_svg(a, plot_dir);
      plot_logo(a, plot_dir);
    }
    if (++done % batch_size == 0) progress.update(done, done - std::exchange(reported, done), "");
  });
  files.commit();
  progress.finish();
  std::fprintf(stderr, "pf-infer: attributions of %ld sequences written to %s%s\n", long(done), dir.c_str(),
               skipped ? (", " + std::to_string(skipped) + " invalid skipped").c_str() : "");
}

// --genome --regions: each promoter region of the genome predicted.
void native_promoters(const Predictor& model, const std::vector<GenomeRegion>& regions, const Emit& emit) {
  emit(region_prediction_tsv_header(model.models().size()));
  model.predict_regions(regions, [&](const RegionPrediction& p) { emit(region_prediction_tsv_row(p)); });
  std::fprintf(stderr, "pf-infer: %zu regions predicted\n", regions.size());
}

// --vcf --genome --regions: the effect of each VCF allele in each region it
// falls in; alleles not scored go to `skipped_path` with their reason.
void genome_variant_effects(const Predictor& model, const Genome& genome, const std::vector<GenomeRegion>& regions,
                            const std::string& vcf_path, GenomeVariantOptions options,
                            const std::string& skipped_path, const Emit& emit) {
  VcfReader vcf(vcf_path);
  AtomicFile skipped(skipped_path);
  std::optional<Progress> progress;  // variants/s and ETA on stderr
  int64_t reported = 0;
  options.progress = [&](const GenomeVariantProgress& p) {
    if (!progress) progress.emplace(std::string("pf-infer: ") + p.unit, p.total, "variants", 1);
    progress->update(p.done, p.scored - std::exchange(reported, p.scored),
                     std::to_string(p.scored) + " scored, " + std::to_string(p.skipped) + " skipped");
  };
  emit(genome_variant_tsv_header(options.effect_percentiles, model.models().size()));
  skipped.write(skipped_variant_tsv_header());
  const GenomeVariantStats stats = model.score_vcf(
      genome, regions, vcf, options,
      [&](const RegionVariantEffect& row) { emit(genome_variant_tsv_row(row, options.effect_percentiles)); },
      [&](const SkippedVariant& s) { skipped.write(skipped_variant_tsv_row(s)); });
  skipped.commit();
  if (progress) progress->finish();
  std::fprintf(stderr,
               "pf-infer: %ld VCF records (%s): %ld effects, %ld alleles skipped (reasons in %s), %ld reference "
               "predictions for %zu regions\n",
               long(stats.records), stats.indexed ? "queried through the index" : "streamed", long(stats.scored),
               long(stats.skipped), skipped_path.c_str(), long(stats.reference_predictions), regions.size());
  if (const std::string warning = chromosome_naming_warning(stats, genome); !warning.empty())
    std::fprintf(stderr, "pf-infer: warning: %s\n", warning.c_str());
}

// skipped.tsv beside the --output file, or in the current directory.
std::string default_skipped_path(const CommandLine& cli) {
  if (!cli.has("output")) return "skipped.tsv";
  return (std::filesystem::path(cli.get("output")).parent_path() / "skipped.tsv").string();
}

// pf-infer's options and --help.
CommandLine command_line() {
  CommandLine cli("pf-infer",
                  "pf-infer --checkpoint CKPT [options] [INPUT ...]\n"
                  "       pf-infer --checkpoint CKPT --variants PAIRS.tsv [options]\n"
                  "       pf-infer --checkpoint CKPT --ism [--plot DIR] [options] [INPUT ...]\n"
                  "       pf-infer --checkpoint CKPT --attributions METHOD --output DIR [--plot DIR] [options] [INPUT ...]\n"

                  "       pf-infer --checkpoint CKPT --vcf CALLS.vcf.gz --genome GENOME.fa --regions PROMOTERS.bed\n"
                  "       pf-infer --checkpoint CKPT --genome GENOME.fa --regions PROMOTERS.bed",
                  "Predicts expression for each sequence of the inputs (DREAM txt/tsv, FASTA or one sequence per\n"
                  "line; plain or gzip; '-' or nothing for stdin). Sequences may carry the plasmid flanks or not.\n"
                  "TSV output columns: id, sequence, prediction (training label scale), prediction_z.\n"
                  "\n"
                  "--variants: PAIRS.tsv has the columns id, ref_seq, alt_seq or id, ref_seq, position, alt_base\n"
                  "(position 1-based in ref_seq as given), with or without that header line. Output columns: id,\n"
                  "ref, alt, alt_minus_ref (training label scale).\n"
                  "\n"
                  "--ism: scores every single-nucleotide substitution of each input sequence. Output columns: id,\n"
                  "position, ref_base, A, C, G, T, where position is 1-based in the sequence with the plasmid flanks\n"
                  "removed and each base column is prediction(mutant) - prediction(sequence), 0 for the reference.\n"
                  "\n"
                  "--attributions: scores of each base of each input sequence, METHOD saliency, input-x-gradient,\n"
                  "integrated-gradients or ism, on the training label scale. --output DIR gets ohe.npz and attr.npz\n"
                  "(float32 [N, 4, L], L the model's length; shorter promoters start at column 0, zeros after them)\n"
                  "for 'modisco motifs -s DIR/ohe.npz -a DIR/attr.npz -w L', and attributions.tsv (id, sequence,\n"
                  "length, prediction, the projected score of each position).\n"
                  "\n"
                  "--genome --regions: each BED6 region (chrom, start, end, name, score, strand) cut from the genome\n"
                  "FASTA (plain or bgzip; indexed on first use), reverse-complemented on the - strand, predicted.\n"
                  "Output columns: name, chrom, start, end, strand, sequence, prediction.\n"
                  "With --vcf (VCF or BCF, plain or bgzip; an index is used when present): one row per\n"
                  "(alternative allele, region it falls in): chrom, pos, id, ref, alt, region, strand, offset\n"
                  "(1-based in the region as the model reads it), ref_prediction, alt_prediction, effect (alt - ref)\n"
                  "and, with --effect-percentiles, effect_percentile. Alleles not scored go to --skipped with the\n"
                  "reason.\n"
                  "\n"
                  "--checkpoint given several times: an ensemble (same input length and label scale, or refused).\n"
                  "Every mode reports the members' mean and adds columns: <value>_sd and n, and for effects\n"
                  "sign_agreement (the share of members whose effect has the sign of the mean); --attributions\n"
                  "also writes attr_sd.npz.\n"
                  "See docs/variants.md.");
  cli.option("checkpoint", "model checkpoint (a .model.safetensors file or its prefix, e.g. runs/demo/best); "
             "several: an ensemble");
  cli.option("output", "output file (written atomically), stdout when not given; with --attributions a directory");
  cli.option("format", "output format: tsv or dream-json ({\"0\": pred, ...})", "tsv");
  declare_run_options(cli);
  cli.flag("skip-invalid", "report and skip bad records instead of stopping (not with --variants)");
  cli.option("variants", "predict variant effects for the pairs of this TSV file instead of the inputs");
  cli.flag("ism", "in-silico mutagenesis of each input sequence (L x 4 effects)");
  cli.option("genome", "genome FASTA (plain or bgzip; its .fai index is built when missing) for --regions");
  cli.option("regions", "BED6 promoter regions of --genome: predicted, or with --vcf the regions scored");
  cli.option("vcf", "VCF/BCF of variants scored in --regions of --genome");
  cli.option("skipped", "with --vcf: TSV of the alleles not scored and why (default: skipped.tsv beside --output)");
  cli.flag("effect-percentiles", "with --vcf: rank each SNV effect among all substitutions of its region (ISM)");
  cli.option("plot", "with --ism: a heat map per sequence, DIR/<id>.ism.png (needs gnuplot); with --attributions: a "
             "logo per sequence, DIR/<id>.logo.svg and .png (gnuplot)");
  cli.option("attributions", "attributions of each input sequence: saliency, input-x-gradient, "
             "integrated-gradients or ism (needs --output DIR)");
  cli.option("ig-steps", "integrated gradients: points on the path from the baseline", "32");
  cli.option("ig-baseline", "integrated gradients: uniform (0.25 per base) or shuffled (dinucleotide shuffles)",
             "uniform");
  cli.option("ig-shuffles", "integrated gradients, shuffled baseline: shuffles per sequence", "10");
  cli.option("ig-seed", "integrated gradients, shuffled baseline: seed of the shuffles", "1");
  return cli;
}

// Refuses options that do not go together, before anything is loaded.
void check_combinations(const CommandLine& cli) {
  PF_CHECK(cli.has("checkpoint"), "pf-infer", "--checkpoint is required (see --help)");
  const std::string format = cli.get("format");
  PF_CHECK(format == "tsv" || format == "dream-json", "pf-infer", "--format must be tsv or dream-json, got '", format,
           "'");
  const bool variants = cli.has("variants"), ism = cli.enabled("ism"), attributing = cli.has("attributions");
  PF_CHECK(int(variants) + int(ism) + int(attributing) <= 1, "pf-infer",
           "--variants, --ism and --attributions cannot be combined");
  PF_CHECK(format == "tsv" || !(variants || ism || attributing), "pf-infer",
           "--variants, --ism and --attributions write TSV; drop --format ", format);
  PF_CHECK(!variants || cli.positional().empty(), "pf-infer", "--variants reads only its own file; unexpected input '",
           cli.positional()[0], "'");
  PF_CHECK(!variants || !cli.enabled("skip-invalid"), "pf-infer", "--skip-invalid does not apply to --variants");
  PF_CHECK(ism || attributing || !cli.has("plot"), "pf-infer", "--plot needs --ism or --attributions");
  PF_CHECK(!attributing || cli.has("output"), "pf-infer", "--attributions needs --output DIR");
  for (const char* name : {"ig-steps", "ig-baseline", "ig-shuffles", "ig-seed"})
    PF_CHECK(!cli.has(name) || (attributing && cli.get("attributions") == "integrated-gradients"), "pf-infer", "--",
             name, " needs --attributions integrated-gradients");
  PF_CHECK(cli.get("ig-baseline") == "shuffled" || !(cli.has("ig-shuffles") || cli.has("ig-seed")), "pf-infer",
           "--ig-shuffles and --ig-seed need --ig-baseline shuffled");
  const bool genome_mode = cli.has("genome") || cli.has("regions") || cli.has("vcf");
  PF_CHECK(!genome_mode || (cli.has("genome") && cli.has("regions")), "pf-infer",
           "--genome and --regions go together (and --vcf needs both)");
  PF_CHECK(!genome_mode || !(variants || ism || attributing || !cli.positional().empty()), "pf-infer",
           "--genome/--regions/--vcf take no INPUT and cannot be combined with --variants, --ism or --attributions");
  PF_CHECK(!genome_mode || format == "tsv", "pf-infer", "--genome writes TSV; drop --format ", format);
  PF_CHECK(!genome_mode || !cli.enabled("skip-invalid"), "pf-infer", "--skip-invalid does not apply to --genome");
  PF_CHECK(cli.has("vcf") || !(cli.has("skipped") || cli.enabled("effect-percentiles")), "pf-infer",
           "--skipped and --effect-percentiles need --vcf");
}

// The --attributions method and its --ig-* options.
AttributionOptions attribution_options(const CommandLine& cli) {
  AttributionOptions attribution;
  attribution.method = parse_option("attributions", [&] { return attribution_method_from_name(cli.get("attributions")); });
  attribution.ig_steps = int(cli.get_int("ig-steps", 1));
  attribution.baseline = parse_option("ig-baseline", [&] { return ig_baseline_from_name(cli.get("ig-baseline")); });
  attribution.shuffles = int(cli.get_int("ig-shuffles", 1));
  attribution.seed = uint64_t(cli.get_int("ig-seed", 0));
  return attribution;
}

// --genome --regions, with or without --vcf.
void genome_mode(const Predictor& model, const CommandLine& cli, const Emit& emit) {
  const Genome genome(cli.get("genome"));
  const std::vector<GenomeRegion> regions = read_genome_regions(genome, cli.get("regions"), model.seq_len());
  if (!cli.has("vcf")) return native_promoters(model, regions, emit);
  GenomeVariantOptions options;
  options.effect_percentiles = cli.enabled("effect-percentiles");
  genome_variant_effects(model, genome, regions, cli.get("vcf"), options,
                         cli.has("skipped") ? cli.get("skipped") : default_skipped_path(cli), emit);
}

// Everything after the command line: the model, the mode, the output.
int run(const CommandLine& cli) {
  check_combinations(cli);
  const AttributionOptions attribution = cli.has("attributions") ? attribution_options(cli) : AttributionOptions{};
  const Predictor model(cli.get_all("checkpoint"), run_settings(cli));
  InferenceOptions options;
  options.skip_invalid = cli.enabled("skip-invalid");
  options.format = parse_option("input-format", [&] { return input_format_from_name(cli.get("input-format")); });
  std::vector<std::string> inputs = cli.positional();
  if (inputs.empty()) inputs.push_back("-");
  if (cli.has("attributions")) {
    attributions(model, inputs, options, attribution, cli.get("output"), cli.get("plot"));
    return 0;
  }

  Output output(cli);
  auto emit = [&](const std::string& text) { output.write(text); };
  if (cli.has("genome"))
    genome_mode(model, cli, emit);
  else if (cli.has("variants"))
    predict_variant_effects(model, cli.get("variants"), emit);
  else if (cli.enabled("ism"))
    mutagenesis(model, inputs, options, cli.get("plot"), emit);
  else
    predict_expression(model, inputs, options, cli.get("format"), emit);
  output.commit();
  return 0;
}

int main_body(int argc, char** argv) {
  CommandLine cli = command_line();
  if (!cli.parse(argc, argv)) return 0;
  try {
    return run(cli);
  } catch (const InvalidRecord& e) {
    throw Error(std::string(e.what()) + " (HINT: --skip-invalid skips such records)");
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_devices();
  return run_app("pf-infer", main_body, argc, argv);
}
