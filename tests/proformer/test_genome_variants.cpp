// Tests of variant effects from a VCF and a genome (genome_variants.h) and of
// native promoters (genome_regions.h), on a tiny checkpoint and a small genome
// written by the test: three chromosomes, promoter regions on both strands,
// and a VCF (plain; bgzip + tabix and BCF + CSI through htslib's own API) with every
// case the scorer must handle. The scored effects are checked against
// pf-infer --variants (predict_variants) and --ism (in_silico_mutagenesis) on
// the same sequences; the bad inputs run pf-infer as a child process.
#include <doctest/doctest.h>
#include <htslib/bgzf.h>
#include <htslib/faidx.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "reports/tsv.h"
#include "proformer/data/sequence.h"
#include "proformer/genome/alleles.h"
#include "proformer/inference/genome_variants.h"
#include "proformer/inference/ism.h"
#include "proformer/inference/predict.h"
#include "proformer/inference/variants.h"
#include "tiny_checkpoint.h"

namespace fs = std::filesystem;
using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

// ---- a small genome, its regions and a VCF, written by the test ----

std::string random_dna(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string dna(n, 'A');
  for (char& c : dna) c = "ACGT"[rng() % 4];
  return dna;
}

// Writes `chromosomes` as a FASTA with 60-nt lines and builds its .fai index.
void write_genome(const std::string& path, const std::map<std::string, std::string>& chromosomes) {
  std::string text;
  for (const auto& [name, dna] : chromosomes) {
    text += ">" + name + " test chromosome\n";
    for (size_t i = 0; i < dna.size(); i += 60) text += dna.substr(i, 60) + "\n";
  }
  write_text(path, text);
  REQUIRE(fai_build(path.c_str()) == 0);
}

// bgzip-compresses `text` into `path`.
void write_bgzip(const std::string& path, const std::string& text) {
  BGZF* out = bgzf_open(path.c_str(), "w");
  REQUIRE(out != nullptr);
  REQUIRE(bgzf_write(out, text.data(), text.size()) == ssize_t(text.size()));
  REQUIRE(bgzf_close(out) == 0);
}

// Converts the VCF at `vcf_path` to a BCF at `path` and indexes it (CSI).
void write_indexed_bcf(const std::string& path, const std::string& vcf_path) {
  htsFile* in = hts_open(vcf_path.c_str(), "r");
  htsFile* out = hts_open(path.c_str(), "wb");
  REQUIRE((in != nullptr && out != nullptr));
  bcf_hdr_t* header = bcf_hdr_read(in);
  REQUIRE(header != nullptr);
  REQUIRE(bcf_hdr_write(out, header) == 0);
  bcf1_t* record = bcf_init();
  while (bcf_read(in, header, record) == 0) REQUIRE(bcf_write(out, header, record) == 0);
  bcf_destroy(record);
  bcf_hdr_destroy(header);
  REQUIRE(hts_close(in) == 0);
  REQUIRE(hts_close(out) == 0);
  REQUIRE(bcf_index_build(path.c_str(), 14) == 0);
}

std::string vcf_header(const std::vector<std::string>& contigs) {
  std::string text = "##fileformat=VCFv4.2\n";
  for (const std::string& c : contigs) text += "##contig=<ID=" + c + ">\n";
  return text + "##ALT=<ID=DEL,Description=\"Deletion\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
}

std::string vcf_line(const std::string& chrom, int64_t pos, const std::string& id, const std::string& ref,
                     const std::string& alt) {
  return chrom + "\t" + std::to_string(pos) + "\t" + id + "\t" + ref + "\t" + alt + "\t.\tPASS\t.\n";
}

char other_base(char base, int shift = 1) { return "ACGT"[(token_of(base) + shift) % 4]; }

// The test's world: chr1 (300 nt), chr2 (250 nt) and chr3 (200 nt); five
// regions, p1 and p2 overlapping on chr1 on opposite strands, p3 exactly the
// model's 100 nt, p4 and p5 5 nt apart on chr3 (two intervals for an indexed
// VCF, both overlapped by one deletion); a VCF whose records are named after
// the case they test.
struct World {
  TempDir dir{"pf_test_genome"};
  std::map<std::string, std::string> chromosomes = {
      {"chr1", random_dna(300, 1)}, {"chr2", random_dna(250, 2)}, {"chr3", random_dna(200, 3)}};
  std::string genome = dir.file("genome.fa"), bed = dir.file("promoters.bed");
  std::string plain_vcf = dir.file("calls.vcf"), indexed_vcf = dir.file("calls.vcf.gz");
  LoadedModel model = load_model(save_tiny_checkpoint(dir.file("tiny"), 5, {5.0, 2.0}));

  // `n` bases of `chrom` from 1-based `pos`.
  std::string bases(const std::string& chrom, int64_t pos, size_t n = 1) const {
    return chromosomes.at(chrom).substr(size_t(pos - 1), n);
  }

  World() {
    write_genome(genome, chromosomes);
    write_text(bed,
               "# promoters\n"
               "chr1\t10\t90\tp1\t0\t+\n"
               "chr1\t50\t130\tp2\t0\t-\n"
               "chr2\t20\t120\tp3\t0\t+\n"
               "chr3\t100\t160\tp4\t0\t-\n"
               "chr3\t165\t190\tp5\t0\t+\n");
    const std::string b75 = bases("chr1", 75), b121 = bases("chr3", 121);
    const std::string vcf =
        vcf_header({"chr1", "chr2", "chr3", "chrM"}) +
        vcf_line("chr1", 21, "snv_p1", bases("chr1", 21), std::string(1, other_base(bases("chr1", 21)[0]))) +
        vcf_line("chr1", 61, "multi_p1_p2", bases("chr1", 61),
                 std::string(1, other_base(bases("chr1", 61)[0])) + "," + other_base(bases("chr1", 61)[0], 2)) +
        vcf_line("chr1", 71, "ref_mismatch", std::string(1, other_base(bases("chr1", 71)[0])), "A,C") +
        vcf_line("chr1", 75, "insertion", b75, b75 + "AC") +
        vcf_line("chr1", 80, "deletion", bases("chr1", 80, 3), bases("chr1", 80)) +
        vcf_line("chr1", 88, "crosses_p1_end", bases("chr1", 88, 5), bases("chr1", 88)) +
        vcf_line("chr1", 200, "outside", bases("chr1", 200), std::string(1, other_base(bases("chr1", 200)[0]))) +
        vcf_line("chr2", 41, "insertion_too_long", bases("chr2", 41), bases("chr2", 41) + "T") +
        vcf_line("chr2", 51, "symbolic", bases("chr2", 51), "<DEL>") +
        vcf_line("chr2", 61, "snv_and_breakend", bases("chr2", 61),
                 std::string(1, other_base(bases("chr2", 61)[0])) + "," + bases("chr2", 61) + "[chr3:5[") +
        vcf_line("chr3", 121, "snv_minus", b121, std::string(1, other_base(b121[0]))) +
        vcf_line("chr3", 158, "spans_p4_p5", bases("chr3", 158, 10), bases("chr3", 158)) +
        vcf_line("chrM", 5, "missing_chromosome", "A", "G");
    write_text(plain_vcf, vcf);
    write_bgzip(indexed_vcf, vcf);
    REQUIRE(tbx_index_build(indexed_vcf.c_str(), 0, &tbx_conf_vcf) == 0);
  }

  struct Run {
    std::vector<RegionVariantEffect> rows;
    std::vector<SkippedVariant> skipped;
    GenomeVariantStats stats;
  };
  // Scores `vcf_path` in `regions` of the genome at `genome_path` with `models`
  // (the world's tiny model when not given).
  Run score(const std::string& vcf_path, const std::string& genome_path, const std::vector<GenomeRegion>& regions,
            bool percentiles = false) const {
    return score_with(Ensemble(model), vcf_path, genome_path, regions, percentiles);
  }
  Run score_with(const Ensemble& models, const std::string& vcf_path, const std::string& genome_path,
                 const std::vector<GenomeRegion>& regions, bool percentiles = false) const {
    const Genome g(genome_path);
    VcfReader vcf(vcf_path);
    GenomeVariantOptions options;
    options.batch_size = 3;  // several batches, references and alts mixed
    options.effect_percentiles = percentiles;
    Run run;
    run.stats = score_genome_variants(
        models, g, regions, vcf, options, [&](const RegionVariantEffect& r) { run.rows.push_back(r); },
        [&](const SkippedVariant& s) { run.skipped.push_back(s); });
    return run;
  }
};

// The naive prediction of one sequence, encoded from its string and predicted alone.
double predict_alone(const LoadedModel& model, const std::string& sequence) {
  const int seq_len = int(model.model->config().seq_len);
  std::vector<uint8_t> tokens(size_t(2 * seq_len));
  encode_promoter(sequence, seq_len, tokens.data());
  return model.state.label_stats.unzscore(predict_encoded(*model.model, tokens.data(), 1, 1)[0]);
}

std::string rows_tsv(const std::vector<RegionVariantEffect>& rows) {
  std::string out;
  for (const RegionVariantEffect& r : rows) out += genome_variant_tsv_row(r, false);
  return out;
}

std::string skipped_tsv(const std::vector<SkippedVariant>& skipped) {
  std::string out;
  for (const SkippedVariant& s : skipped) out += skipped_variant_tsv_row(s);
  return out;
}

}  // namespace

TEST_CASE("genome: regions are cut from the genome and reverse-complemented on the minus strand") {
  CHECK(reverse_complement("ACGTNacgt") == "ACGTNACGT");
  CHECK(reverse_complement("AACG") == "CGTT");
  World w;
  const Genome genome(w.genome);
  CHECK(genome.has("chr2"));
  CHECK_FALSE(genome.has("chrM"));
  CHECK(genome.length("chr1") == 300);
  CHECK(genome.fetch("chr1", 58, 125) == w.chromosomes["chr1"].substr(58, 67));  // across FASTA lines
  // A bgzip genome reads the same through its .fai and .gzi.
  const std::string bgzip_genome = w.dir.file("genome.fa.gz");
  write_bgzip(bgzip_genome, read_text(w.genome));
  REQUIRE(fai_build(bgzip_genome.c_str()) == 0);
  CHECK(Genome(bgzip_genome).fetch("chr2", 3, 200) == w.chromosomes["chr2"].substr(3, 197));

  const std::vector<GenomeRegion> regions = read_genome_regions(genome, w.bed, 100);
  REQUIRE(regions.size() == 5);
  CHECK(regions[0].region.name == "p1");
  CHECK(regions[0].sequence == w.chromosomes["chr1"].substr(10, 80));
  CHECK(regions[1].region.strand == '-');
  CHECK(regions[1].forward == w.chromosomes["chr1"].substr(50, 80));
  CHECK(regions[1].sequence == reverse_complement(w.chromosomes["chr1"].substr(50, 80)));
  CHECK(regions[1].region.line == 3);  // the comment line counts

  // Native promoters: each region predicted as its sequence alone.
  std::vector<RegionPrediction> predictions;
  predict_regions(w.model, regions, 3, [&](const RegionPrediction& p) { predictions.push_back(p); });
  REQUIRE(predictions.size() == 5);
  for (const RegionPrediction& p : predictions)
    CHECK(std::abs(p.value - predict_alone(w.model, p.region->sequence)) <= 1e-6);
  CHECK(region_prediction_tsv_row(predictions[1]).rfind("p2\tchr1\t50\t130\t-\t" + regions[1].sequence + "\t", 0) == 0);
}

namespace {

// Runs `action` in a child process that cannot write into a directory of mode
// 555, and returns its exit status: the child drops to the user nobody when
// this process is root, for whom a directory's mode stops no write. 77: the
// child could not drop its privileges.
int as_unprivileged(const std::function<int()>& action) {
  std::fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    constexpr uid_t kNobody = 65534;
    if (geteuid() == 0 && (setgid(kNobody) != 0 || setuid(kNobody) != 0)) _exit(77);
    _exit(action());
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("genome: a FASTA without its index gets one, beside it or in a temporary directory") {
  World w;
  std::vector<std::string> notes;
  const GenomeNote note = [&](const std::string& line) { notes.push_back(line); };
  auto check_sequences = [&](const Genome& genome) {
    CHECK(genome.chromosomes() == std::vector<std::string>{"chr1", "chr2", "chr3"});
    for (const auto& [name, dna] : w.chromosomes) CHECK(genome.fetch(name, 0, genome.length(name)) == dna);
  };
  fs::create_directory(w.dir.path / "bare");
  const std::string bare = w.dir.file("bare/genome.fa"), bgzip = w.dir.file("bare/genome.fa.gz");
  fs::copy_file(w.genome, bare);
  write_bgzip(bgzip, read_text(w.genome));

  // Where the directory is writable the index is built beside the FASTA, once.
  check_sequences(Genome(bare, IndexBuild::beside_when_writable, note));
  CHECK(notes == std::vector<std::string>{"genome: built the index " + bare + ".fai"});
  CHECK(read_text(bare + ".fai") == read_text(w.genome + ".fai"));
  check_sequences(Genome(bare, IndexBuild::beside_when_writable, note));
  CHECK(notes.size() == 1);
  check_sequences(Genome(bgzip, IndexBuild::beside_when_writable, note));
  CHECK(notes.back() == "genome: built the index " + bgzip + ".fai and " + bgzip + ".gzi");
  CHECK(fs::exists(bgzip + ".gzi"));

  // Asked for, or where the directory is not writable, nothing is written beside it.
  const std::string elsewhere = w.dir.file("elsewhere.fa.gz");
  fs::copy_file(bgzip, elsewhere);
  check_sequences(Genome(elsewhere, IndexBuild::temporary, note));
  CHECK(notes.back() == "genome: built the index of " + elsewhere + " in a temporary directory, removed once read");
  CHECK_FALSE(fs::exists(elsewhere + ".fai"));
  CHECK_FALSE(fs::exists(elsewhere + ".gzi"));
  fs::create_directory(w.dir.path / "read_only");
  const std::string read_only = w.dir.file("read_only/genome.fa");
  fs::copy_file(w.genome, read_only);
  fs::permissions(w.dir.path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::permissions(w.dir.path / "read_only", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                                fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const int status = as_unprivileged([&] {
    try {
      notes.clear();
      const Genome genome(read_only, IndexBuild::beside_when_writable, note);
      const bool same = genome.fetch("chr2", 0, 250) == w.chromosomes["chr2"];
      const bool said = notes.size() == 1 && contains(notes[0], "(the FASTA's directory is not writable)");
      return same && said && !fs::exists(read_only + ".fai") ? 0 : 1;
    } catch (const std::exception&) {
      return 2;
    }
  });
  fs::permissions(w.dir.path / "read_only", fs::perms::owner_all);  // for TempDir to remove
  if (status == 77) MESSAGE("could not run as the user nobody: the fallback for a read-only directory is untested");
  else CHECK(status == 0);

  // gzip that is not bgzip cannot be indexed.
  const std::string gzip = w.dir.file("genome_gzip.fa.gz");
  write_gzip(gzip, read_text(w.genome));
  const std::string error = error_of([&] { Genome{gzip}; });
  CHECK(contains(error, gzip + ": is compressed with gzip, which cannot be indexed"));
  CHECK(contains(error, "bgzip"));
}

TEST_CASE("genome: region index finds overlaps and merges intervals") {
  const std::vector<Region> regions = {{"c", 10, 20, "a", '+', 1},
                                       {"c", 15, 40, "b", '+', 2},
                                       {"c", 50, 60, "d", '-', 3},
                                       {"x", 0, 5, "e", '+', 4},
                                       {"c", 12, 14, "f", '+', 5}};
  const RegionIndex index(regions);
  CHECK(index.overlapping("c", 13, 14) == std::vector<int64_t>{0, 4});
  CHECK(index.overlapping("c", 19, 21) == std::vector<int64_t>{0, 1});
  CHECK(index.overlapping("c", 39, 55) == std::vector<int64_t>{1, 2});
  CHECK(index.overlapping("c", 40, 50).empty());  // half-open: neither 40 nor 49 is in a region
  CHECK(index.overlapping("y", 0, 100).empty());
  CHECK(index.merged("c") == std::vector<std::pair<int64_t, int64_t>>{{10, 40}, {50, 60}});
  CHECK(allele_unscorable_reason("ACgt").empty());
  CHECK(contains(allele_unscorable_reason("<DEL>"), "symbolic"));
  CHECK(contains(allele_unscorable_reason("A[chr1:5["), "breakend"));
  CHECK(contains(allele_unscorable_reason("*"), "spanning deletion"));
  CHECK(apply_allele("ACGTACGT", 100, 102, 2, "C") == "ACCACGT");
}

TEST_CASE("genome variants: every case is scored or skipped with its reason") {
  World w;
  const Genome genome(w.genome);
  const std::vector<GenomeRegion> regions = read_genome_regions(genome, w.bed, 100);
  const World::Run run = w.score(w.plain_vcf, w.genome, regions);
  CHECK_FALSE(run.stats.indexed);
  CHECK(run.stats.records == 13);

  std::vector<std::string> scored;  // id/region of every row, in order
  for (const RegionVariantEffect& r : run.rows) scored.push_back(r.id + "/" + r.region->region.name);
  CHECK(scored == std::vector<std::string>{"snv_p1/p1", "multi_p1_p2/p1", "multi_p1_p2/p2", "multi_p1_p2/p1",
                                           "multi_p1_p2/p2", "insertion/p1", "insertion/p2", "deletion/p1",
                                           "deletion/p2", "crosses_p1_end/p2", "snv_and_breakend/p3", "snv_minus/p4"});
  std::map<std::string, std::string> reasons;  // id/alt/region -> reason
  for (const SkippedVariant& s : run.skipped) reasons[s.id + "/" + s.alt + "/" + s.region] = s.reason;
  CHECK(run.stats.skipped == int64_t(run.skipped.size()));
  CHECK(reasons.size() == 10);
  CHECK(contains(reasons["ref_mismatch/A/"], "REF disagrees with the genome"));
  CHECK(contains(reasons["ref_mismatch/C/"], "REF disagrees with the genome"));
  CHECK(reasons["crosses_p1_end/" + w.bases("chr1", 88) + "/p1"] == "crosses the boundary of the region");
  CHECK(reasons["outside/" + std::string(1, other_base(w.bases("chr1", 200)[0])) + "/"] == "outside every region");
  CHECK(reasons["insertion_too_long/" + w.bases("chr2", 41) + "T/p3"] ==
        "edited region of 101 nt is longer than the model's input of 100 nt");
  CHECK(contains(reasons["symbolic/<DEL>/"], "symbolic allele"));
  CHECK(contains(reasons["snv_and_breakend/" + w.bases("chr2", 61) + "[chr3:5[/"], "breakend allele"));
  const std::string spans = "spans_p4_p5/" + w.bases("chr3", 158) + "/";
  CHECK(reasons[spans + "p4"] == "crosses the boundary of the region");
  CHECK(reasons[spans + "p5"] == "crosses the boundary of the region");
  CHECK(reasons["missing_chromosome/G/"] == "chromosome missing from the genome");

  // Each region's reference predicted once (p1, p2, p3, p4 have scored rows, p5 none);
  // every row's ref and alt equal the sequences predicted alone.
  CHECK(run.stats.reference_predictions == 4);
  for (const RegionVariantEffect& r : run.rows) {
    CAPTURE(r.id);
    const Region& region = r.region->region;
    const std::string edited = apply_allele(r.region->forward, region.start, r.pos - 1, r.ref.size(), r.alt);
    CHECK(std::abs(r.reference - predict_alone(w.model, r.region->sequence)) <= 1e-6);
    CHECK(std::abs(r.alternative - predict_alone(w.model, oriented(region, edited))) <= 1e-6);
    CHECK(r.effect() != 0);
  }
  // Offsets: 1-based in the region as the model reads it.
  CHECK(run.rows[0].offset == 21 - 10);                 // chr1:21 in p1 = chr1:11-90
  CHECK(run.rows[2].offset == 130 - 61 + 1);            // chr1:61 in p2 (minus), 5' end at chr1:130
  CHECK(run.rows[8].offset == 130 - (80 + 3 - 1) + 1);  // the deletion's 3-nt REF on the minus strand
  CHECK(genome_variant_tsv_header(false, 1) ==
        "chrom\tpos\tid\tref\talt\tregion\tstrand\toffset\tref_prediction\talt_prediction\teffect\n");
  CHECK(genome_variant_tsv_row(run.rows[0], false).rfind("chr1\t21\tsnv_p1\t" + w.bases("chr1", 21) + "\t", 0) == 0);
  CHECK(skipped_variant_tsv_row(run.skipped.back()) ==
        "chrM\t5\tmissing_chromosome\tA\tG\t.\tchromosome missing from the genome\n");
}

TEST_CASE("genome variants: a VCF that names chromosomes otherwise than the genome gets a warning") {
  World w;
  const std::vector<GenomeRegion> regions = read_genome_regions(Genome(w.genome), w.bed, 100);
  // The world's VCF with "chr" dropped from every record but the first: 1, 2, 3 and M against chr1, chr2, chr3.
  std::string renamed = vcf_header({"chr1", "1", "2", "3", "M"});
  bool first_record = true;
  std::istringstream lines(read_text(w.plain_vcf));
  for (std::string line; std::getline(lines, line);) {
    if (line[0] == '#') continue;
    renamed += (first_record ? line : line.substr(3)) + "\n";
    first_record = false;
  }
  const std::string renamed_vcf = w.dir.file("renamed.vcf");
  write_text(renamed_vcf, renamed);
  const World::Run run = w.score(renamed_vcf, w.genome, regions);
  CHECK(run.stats.records == 13);
  CHECK(run.stats.records_on_missing_chromosomes == 12);
  CHECK(run.stats.missing_chromosomes == std::vector<std::string>{"1", "2", "3", "M"});
  CHECK(run.rows.size() == 1);
  const std::string expected =
      "12 of 13 VCF records name chromosomes the genome lacks (VCF: 1, 2, 3, ...; genome: chr1, chr2, chr3): "
      "the two name chromosomes differently";
  CHECK(chromosome_naming_warning(run.stats, Genome(w.genome)) == expected);

  // The world's own VCF has one record on chrM: no warning. Half the records is not most of them.
  const World::Run own = w.score(w.plain_vcf, w.genome, regions);
  CHECK(own.stats.records_on_missing_chromosomes == 1);
  CHECK(own.stats.missing_chromosomes == std::vector<std::string>{"chrM"});
  CHECK(chromosome_naming_warning(own.stats, Genome(w.genome)).empty());
  GenomeVariantStats half;
  half.records = 4;
  half.records_on_missing_chromosomes = 2;
  half.missing_chromosomes = {"M"};
  CHECK(chromosome_naming_warning(half, Genome(w.genome)).empty());
  half.records_on_missing_chromosomes = 3;
  CHECK(contains(chromosome_naming_warning(half, Genome(w.genome)), "3 of 4 VCF records"));

  // Indexed, the renamed records are never read: the index's chromosomes say it.
  const std::string renamed_indexed = w.dir.file("renamed.vcf.gz");
  write_bgzip(renamed_indexed, renamed);
  REQUIRE(tbx_index_build(renamed_indexed.c_str(), 0, &tbx_conf_vcf) == 0);
  const World::Run indexed = w.score(renamed_indexed, w.genome, regions);
  CHECK(indexed.stats.indexed);
  CHECK(indexed.stats.records == 1);
  CHECK(indexed.stats.index_chromosomes == 5);
  CHECK(indexed.stats.missing_chromosomes == std::vector<std::string>{"1", "2", "3", "M"});
  CHECK(chromosome_naming_warning(indexed.stats, Genome(w.genome)) ==
        "4 of 5 chromosomes in the VCF's index are ones the genome lacks (VCF: 1, 2, 3, ...; genome: chr1, chr2, "
        "chr3): the two name chromosomes differently");
  CHECK(chromosome_naming_warning(w.score(w.indexed_vcf, w.genome, regions).stats, Genome(w.genome)).empty());

  // pf-infer runs to the end and says so in one line.
  const ProcessResult result = run_process({app_path("pf-infer"), "--checkpoint", w.dir.file("tiny"), "--threads", "1",
                                            "--output", w.dir.file("out.tsv"), "--vcf", renamed_vcf, "--genome",
                                            w.genome, "--regions", w.bed});
  INFO("stderr: ", result.err);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.err, "\npf-infer: warning: " + expected + "\n"));
}

TEST_CASE("genome variants: the indexed VCF and BCF give the plain VCF's rows") {
  World w;
  const Genome genome(w.genome);
  const std::vector<GenomeRegion> regions = read_genome_regions(genome, w.bed, 100);
  const World::Run plain = w.score(w.plain_vcf, w.genome, regions);
  const std::string bcf = w.dir.file("calls.bcf");
  write_indexed_bcf(bcf, w.plain_vcf);
  const World::Run indexed = w.score(w.indexed_vcf, w.genome, regions), indexed_bcf = w.score(bcf, w.genome, regions);
  CHECK(indexed.stats.indexed);
  CHECK(indexed_bcf.stats.indexed);
  CHECK(rows_tsv(indexed.rows) == rows_tsv(plain.rows));
  CHECK(rows_tsv(indexed_bcf.rows) == rows_tsv(plain.rows));
  CHECK(skipped_tsv(indexed_bcf.skipped) == skipped_tsv(indexed.skipped));
  CHECK(indexed.stats.reference_predictions == plain.stats.reference_predictions);
  // The index never reads records outside every region (nor on chrM, which has none);
  // the deletion across p4 and p5 comes back from both intervals' queries, and is scored once.
  std::vector<SkippedVariant> in_regions;
  for (const SkippedVariant& s : plain.skipped)
    if (s.reason != "outside every region" && s.reason != "chromosome missing from the genome") in_regions.push_back(s);
  CHECK(skipped_tsv(indexed.skipped) == skipped_tsv(in_regions));
  CHECK(indexed.stats.records == plain.stats.records - 2);
  // Streamed to the end, plain or bgzip, the whole file counts as read (progress and ETA).
  for (const std::string& path : {w.plain_vcf, w.indexed_vcf}) {
    VcfReader vcf(path);
    VcfRecord record;
    while (vcf.next(record)) continue;
    CHECK(vcf.fraction_read() == 1.0);
  }
}

TEST_CASE("genome variants: an SNV effect equals pf-infer --variants and --ism on the same sequences") {
  World w;
  const Genome genome(w.genome);
  const std::vector<GenomeRegion> regions = read_genome_regions(genome, w.bed, 100);
  const World::Run run = w.score(w.plain_vcf, w.genome, regions, true);
  std::string pairs = "id\tref_seq\talt_seq\n";
  std::vector<const RegionVariantEffect*> snvs;
  for (const RegionVariantEffect& r : run.rows) {
    if (r.ref.size() != 1 || r.alt.size() != 1) {
      CHECK(r.percentile == -1);
      continue;
    }
    const Region& region = r.region->region;
    pairs += r.id + "\t" + r.region->sequence + "\t" +
             oriented(region, apply_allele(r.region->forward, region.start, r.pos - 1, 1, r.alt)) + "\n";
    snvs.push_back(&r);
  }
  REQUIRE(snvs.size() == 7);  // on both strands
  write_text(w.dir.file("pairs.tsv"), pairs);
  std::vector<VariantEffect> expected;
  predict_variants(w.model, w.dir.file("pairs.tsv"), 4, [&](const VariantEffect& e) { expected.push_back(e); });
  REQUIRE(expected.size() == snvs.size());
  std::map<std::string, IsmResult> isms;  // --ism of each region with an SNV
  for (size_t k = 0; k < snvs.size(); ++k) {
    const RegionVariantEffect& r = *snvs[k];
    CAPTURE(r.id);
    CAPTURE(r.region->region.name);
    CHECK(std::abs(r.reference - expected[k].ref) <= 1e-6);
    CHECK(std::abs(r.alternative - expected[k].alt) <= 1e-6);
    CHECK(std::abs(r.effect() - expected[k].effect()) <= 1e-6);
    // The --ism row of the region at the row's offset, the alt base in the region's orientation.
    const std::string& name = r.region->region.name;
    if (!isms.count(name)) isms.emplace(name, in_silico_mutagenesis(w.model, name, r.region->sequence, 16));
    const IsmResult& ism = isms.at(name);
    const char base = r.region->region.strand == '+' ? r.alt[0] : reverse_complement(r.alt)[0];
    const double ism_effect = ism.effects[size_t(r.offset - 1)][size_t(token_of(base))];
    CHECK(std::abs(r.effect() - ism_effect) <= 1e-6);
    // Its percentile: the share of the region's substitutions with |effect| <= its own.
    int at_most = 0, substitutions = 0;
    for (size_t i = 0; i < ism.effects.size(); ++i)
      for (size_t b = 0; b < 4; ++b)
        if (kBases[b] != ism.bases[i]) {
          ++substitutions;
          at_most += std::abs(ism.effects[i][b]) <= std::abs(ism_effect);
        }
    CHECK(std::abs(r.percentile - 100.0 * at_most / substitutions) <= 1e-9);
  }
}

TEST_CASE("genome variants: a minus-strand region scores as its reverse-complemented sequence on the plus strand") {
  World w;
  // chrR is chr1 reverse-complemented: p2 (chr1:50-130, minus) is chrR:170-250 on the plus strand.
  const std::string chr1 = w.chromosomes["chr1"], genome_rc = w.dir.file("genome_rc.fa");
  write_genome(genome_rc, {{"chrR", reverse_complement(chr1)}});
  write_text(w.dir.file("minus.bed"), "chr1\t50\t130\tp2\t0\t-\n");
  write_text(w.dir.file("plus.bed"), "chrR\t170\t250\tp2\t0\t+\n");
  std::string minus_vcf = vcf_header({"chr1"}), plus_vcf = vcf_header({"chrR"});
  auto id_of = [](int64_t pos) {  // "v<pos>"; not "v" + std::to_string(pos), for which GCC 12 warns -Wrestrict falsely
    std::string id = "v";
    return id += std::to_string(pos);
  };
  for (const int64_t pos : {51, 61, 97, 130}) {  // 1-based on chr1; chrR position 301 - pos
    const char ref = chr1[size_t(pos - 1)], alt = other_base(ref);
    minus_vcf += vcf_line("chr1", pos, id_of(pos), std::string(1, ref), std::string(1, alt));
  }
  for (const int64_t pos : {130, 97, 61, 51}) {
    const char ref = chr1[size_t(pos - 1)], alt = other_base(ref);
    plus_vcf += vcf_line("chrR", 301 - pos, id_of(pos), reverse_complement(std::string(1, ref)),
                         reverse_complement(std::string(1, alt)));
  }
  write_text(w.dir.file("minus.vcf"), minus_vcf);
  write_text(w.dir.file("plus.vcf"), plus_vcf);
  const std::vector<GenomeRegion> minus_regions = read_genome_regions(Genome(w.genome), w.dir.file("minus.bed"), 100);
  const std::vector<GenomeRegion> plus_regions = read_genome_regions(Genome(genome_rc), w.dir.file("plus.bed"), 100);
  CHECK(minus_regions[0].sequence == plus_regions[0].sequence);
  const World::Run minus = w.score(w.dir.file("minus.vcf"), w.genome, minus_regions);
  const World::Run plus = w.score(w.dir.file("plus.vcf"), genome_rc, plus_regions);
  REQUIRE(minus.rows.size() == 4);
  REQUIRE(plus.rows.size() == 4);
  for (size_t k = 0; k < 4; ++k) {
    const RegionVariantEffect &m = minus.rows[k], &p = plus.rows[3 - k];
    CAPTURE(m.id);
    CHECK(m.id == p.id);
    CHECK(m.offset == p.offset);
    CHECK(std::abs(m.reference - p.reference) <= 1e-6);
    CHECK(std::abs(m.alternative - p.alternative) <= 1e-6);
    CHECK(std::abs(m.effect()) > 0);
  }
  CHECK(minus.rows[0].offset == 80);  // chr1:51 is the 3' end of p2
}

TEST_CASE("genome variants: an ensemble's rows average its members' runs, references still once per region") {
  World w;
  const std::string second = save_tiny_checkpoint(w.dir.file("tiny2"), 6, {5.0, 2.0});
  const std::vector<GenomeRegion> regions = read_genome_regions(Genome(w.genome), w.bed, 100);
  const World::Run a = w.score(w.plain_vcf, w.genome, regions);
  const World::Run b = w.score_with(Ensemble({second}), w.plain_vcf, w.genome, regions);
  const World::Run both = w.score_with(Ensemble({w.dir.file("tiny"), second}), w.plain_vcf, w.genome, regions);
  REQUIRE(both.rows.size() == a.rows.size());
  REQUIRE(both.rows.size() == b.rows.size());
  CHECK(both.stats.reference_predictions == a.stats.reference_predictions);
  CHECK(skipped_tsv(both.skipped) == skipped_tsv(a.skipped));
  for (size_t k = 0; k < both.rows.size(); ++k) {
    const RegionVariantEffect &x = a.rows[k], &y = b.rows[k], &mean = both.rows[k];
    CAPTURE(mean.id);
    CHECK(std::abs(mean.reference - (x.reference + y.reference) / 2) <= 1e-6);
    CHECK(std::abs(mean.alternative - (x.alternative + y.alternative) / 2) <= 1e-6);
    CHECK(std::abs(mean.effect() - (x.effect() + y.effect()) / 2) <= 1e-6);
    CHECK(mean.spread.n == 2);
    CHECK(std::abs(mean.spread.sd - std::abs(x.effect() - y.effect()) / 2) <= 1e-6);
    CHECK(mean.spread.sign_agreement == ((x.effect() > 0) == (y.effect() > 0) ? 1.0 : 0.5));
  }
}

// ---- pf-infer: the whole path, and bad inputs ----

namespace {

// pf-infer on the world's files with `extra` arguments; output and skipped.tsv in w.dir.
ProcessResult run_pf_infer(const World& w, std::vector<std::string> extra) {
  std::vector<std::string> argv = {app_path("pf-infer"), "--checkpoint",       w.dir.file("tiny"), "--threads", "1",
                                   "--output",           w.dir.file("out.tsv")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_process(argv);
}

// A rejected run: exit code 1, one line on stderr naming `input` and `words`, no output files.
void check_rejected(const World& w, const ProcessResult& result, const std::string& input,
                    std::initializer_list<std::string> words) {
  INFO("stderr: ", result.err);
  CHECK(result.exit_code == 1);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK(contains(result.err, fs::path(input).filename().string()));
  for (const std::string& word : words) CHECK(contains(result.err, word));
  CHECK_FALSE(fs::exists(w.dir.file("out.tsv")));
  CHECK_FALSE(fs::exists(w.dir.file("skipped.tsv")));
}

}  // namespace

TEST_CASE("pf-infer --vcf --genome --regions: effects and skipped.tsv, native promoters without --vcf") {
  World w;
  const ProcessResult run = run_pf_infer(w, {"--vcf", w.indexed_vcf, "--genome", w.genome, "--regions", w.bed});
  INFO("stderr: ", run.err);
  REQUIRE(run.exit_code == 0);
  const std::string out = read_text(w.dir.file("out.tsv")), skipped = read_text(w.dir.file("skipped.tsv"));
  CHECK(out.rfind(genome_variant_tsv_header(false, 1), 0) == 0);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1 + 12);
  CHECK(skipped.rfind(skipped_variant_tsv_header(), 0) == 0);
  CHECK(contains(skipped, "\tREF disagrees with the genome"));
  CHECK(contains(run.err, "queried through the index"));
  CHECK(contains(run.err, "4 reference predictions for 5 regions"));

  const ProcessResult native = run_pf_infer(w, {"--genome", w.genome, "--regions", w.bed});
  REQUIRE(native.exit_code == 0);
  const std::string predictions = read_text(w.dir.file("out.tsv"));
  CHECK(predictions.rfind(region_prediction_tsv_header(1) + "p1\tchr1\t10\t90\t+\t", 0) == 0);
  CHECK(std::count(predictions.begin(), predictions.end(), '\n') == 6);
}

TEST_CASE("pf-infer --checkpoint twice: an ensemble adds sd, n and sign agreement, another label scale is refused") {
  World w;
  const std::string second = save_tiny_checkpoint(w.dir.file("tiny2"), 6, {5.0, 2.0});
  const ProcessResult run =
      run_pf_infer(w, {"--checkpoint", second, "--vcf", w.plain_vcf, "--genome", w.genome, "--regions", w.bed});
  INFO("stderr: ", run.err);
  REQUIRE(run.exit_code == 0);
  const std::string out = read_text(w.dir.file("out.tsv"));
  CHECK(out.rfind(genome_variant_tsv_header(false, 2), 0) == 0);
  CHECK(contains(genome_variant_tsv_header(false, 2), "\teffect\teffect_sd\tn\tsign_agreement\n"));
  CHECK(std::count(out.begin(), out.end(), '\n') == 1 + 12);
  fs::remove(w.dir.file("out.tsv"));
  fs::remove(w.dir.file("skipped.tsv"));

  const std::string other_scale = save_tiny_checkpoint(w.dir.file("other_scale"), 7, {6.0, 2.0});
  const ProcessResult refused =
      run_pf_infer(w, {"--checkpoint", other_scale, "--genome", w.genome, "--regions", w.bed});
  check_rejected(w, refused, other_scale, {"label scale", w.dir.file("tiny")});
}

TEST_CASE("pf-infer --vcf: bad inputs get one line naming the file and leave no output") {
  World w;
  const std::vector<std::string> genome_args = {"--genome", w.genome, "--regions", w.bed};
  auto with_vcf = [&](const std::string& vcf) {
    std::vector<std::string> args = {"--vcf", vcf};
    args.insert(args.end(), genome_args.begin(), genome_args.end());
    return args;
  };
  SUBCASE("truncated bgzip") {
    const std::string whole = read_text(w.indexed_vcf), truncated = w.dir.file("truncated.vcf.gz");
    write_text(truncated, whole.substr(0, whole.size() - 40));
    check_rejected(w, run_pf_infer(w, with_vcf(truncated)), truncated, {"truncated"});
  }
  SUBCASE("VCF without a header") {
    const std::string headless = w.dir.file("headless.vcf"), text = read_text(w.plain_vcf);
    write_text(headless, text.substr(text.find("chr1\t21")));
    check_rejected(w, run_pf_infer(w, with_vcf(headless)), headless, {"##fileformat=VCF"});
  }
  SUBCASE("a broken record after scored ones") {
    const std::string broken = w.dir.file("broken.vcf");
    write_text(broken, read_text(w.plain_vcf) + "chrM\tseven\t.\tA\tG\t.\t.\t.\n");
    check_rejected(w, run_pf_infer(w, with_vcf(broken)), broken, {"record 14: POS is not an integer >= 1"});
  }
  SUBCASE("BED with start > end") {
    const std::string bed = w.dir.file("reversed.bed");
    write_text(bed, "chr1\t10\t90\tp1\t0\t+\nchr1\t130\t50\tp2\t0\t-\n");
    check_rejected(w, run_pf_infer(w, {"--vcf", w.plain_vcf, "--genome", w.genome, "--regions", bed}), bed,
                   {"reversed.bed:2: start 130 is not below end 50"});
  }
  SUBCASE("genome compressed with gzip, not bgzip") {
    const std::string gzip = w.dir.file("gzip.fa.gz");
    write_gzip(gzip, read_text(w.genome));
    check_rejected(w, run_pf_infer(w, {"--vcf", w.plain_vcf, "--genome", gzip, "--regions", w.bed}), gzip,
                   {"compressed with gzip", "bgzip"});
  }
  SUBCASE("genome with an index older than itself") {
    const std::string stale = w.dir.file("stale.fa");
    fs::copy_file(w.genome + ".fai", stale + ".fai");
    write_text(stale, read_text(w.genome));
    fs::last_write_time(stale + ".fai", fs::last_write_time(stale) - std::chrono::hours(1));
    check_rejected(w, run_pf_infer(w, {"--genome", stale, "--regions", w.bed}), stale, {"older than the FASTA"});
  }
  SUBCASE("region on a chromosome the genome lacks") {
    const std::string bed = w.dir.file("chrM.bed");
    write_text(bed, "chrM\t0\t50\tmito\t0\t+\n");
    check_rejected(w, run_pf_infer(w, {"--vcf", w.plain_vcf, "--genome", w.genome, "--regions", bed}), bed,
                   {"chrM.bed:1: region 'mito' is on chromosome 'chrM', which the genome"});
  }
  SUBCASE("region longer than the model's input") {
    const std::string bed = w.dir.file("long.bed");
    write_text(bed, "chr1\t0\t101\tlong\t0\t+\n");
    check_rejected(w, run_pf_infer(w, {"--genome", w.genome, "--regions", bed}), bed,
                   {"region 'long' is 101 nt, longer than the model's input of 100 nt"});
  }
}
