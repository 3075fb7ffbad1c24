// _proformer: the Python binding of the library's in-memory API
// (proformer/api/predictor.h). Thin on purpose: numpy arrays and Python lists
// in, numpy arrays out, every computation in the library. python/proformer/
// __init__.py adds the pure-Python conveniences (pandas tables, logging).
//
// How it behaves:
//   - numpy input (C-contiguous uint8 tokens [N, L], float32 one-hot
//     [N, 4, L]) is read in place, never copied; other dtypes or a Fortran
//     layout raise TypeError rather than being copied silently.
//   - results are numpy arrays over the library's own buffers (a capsule owns
//     them), handed over without a copy.
//   - the GIL is released while the library computes; before every forward
//     pass the library calls back (RunSettings::interrupt_check), which takes
//     the GIL for a moment to run Python's signal handlers, so Ctrl-C stops a
//     call within one batch as KeyboardInterrupt.
//   - pf::Error becomes proformer.ProformerError (a RuntimeError) with the
//     library's message.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "proformer/api/predictor.h"
#include "proformer/checkpoint.h"
#include "proformer/data/sequence.h"
#include "reports/design_tsv.h"
#include "reports/attribution_files.h"
#include "proformer/inference/predict.h"
#include "proformer/training/trainer.h"
#ifdef PF_HAVE_CUDA
#include "cuda/register.h"
#endif

namespace py = pybind11;
using namespace pf;
using namespace pf::proformer;

namespace {

// ---- numpy in and out ----

// A numpy array over `values` (moved to the heap, owned by the array), shape `shape`.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values, std::vector<py::ssize_t> shape) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owned->data(), owner);
}

// The array `x` if it has dtype T, is C-contiguous and has `dims` dimensions;
// TypeError or ValueError otherwise (never a silent copy).
template <typename T>
py::array checked_array(const py::array& x, int dims, const char* what) {
  if (!py::dtype::of<T>().is(x.dtype()))
    throw py::type_error(std::string(what) + " must have dtype " + std::string(py::str(py::dtype::of<T>())) +
                         ", got " + std::string(py::str(x.dtype())) + " (convert it with .astype(...): it is not "
                         "copied silently)");
  if (!(x.flags() & py::array::c_style))
    throw py::type_error(std::string(what) + " must be C-contiguous (np.ascontiguousarray): it is not copied silently");
  if (x.ndim() != dims)
    throw py::value_error(std::string(what) + " must have " + std::to_string(dims) + " dimensions, got shape " +
                          std::string(py::str(py::tuple(py::cast(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()))))));
  return x;
}

std::vector<std::string> as_sequences(const py::handle& x) {
  if (py::isinstance<py::str>(x)) return {x.cast<std::string>()};
  return x.cast<std::vector<std::string>>();
}

// A line to Python's "proformer" logger at `level` (info, warning), where a
// notebook shows it; the GIL must be held.
void log(const char* level, const std::string& line) {
  py::module_::import("logging").attr("getLogger")("proformer").attr(level)(line);
}

// The thread that imported the module: Python's main thread, the only one
// that runs signal handlers.
std::thread::id g_main_thread;

// Runs Python's signal handlers; KeyboardInterrupt (or any exception they
// raise) stops the library call. On another thread there is nothing to run,
// so it returns at once instead of waiting for the GIL before every batch.
void check_python_signals() {
  if (std::this_thread::get_id() != g_main_thread) return;
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

// ---- results ----

// The members' spread of N values, as arrays.
py::dict spread_columns(const std::vector<MemberSpread>& spread, bool sign) {
  std::vector<double> sd, agreement;
  std::vector<int64_t> n;
  for (const MemberSpread& s : spread) {
    sd.push_back(s.sd);
    n.push_back(s.n);
    agreement.push_back(s.sign_agreement);
  }
  const py::ssize_t rows = py::ssize_t(spread.size());
  py::dict out;
  out["sd"] = to_numpy(std::move(sd), {rows});
  out["n"] = to_numpy(std::move(n), {rows});
  if (sign) out["sign_agreement"] = to_numpy(std::move(agreement), {rows});
  return out;
}

// predict's result: mean [N] float32, and sd [N], n [N], members [M, N].
py::dict prediction_columns(EnsemblePredictions&& p) {
  std::vector<float> mean;
  for (const MemberSpread& s : p.spread) mean.push_back(float(s.mean));
  py::dict out = spread_columns(p.spread, false);
  out["mean"] = to_numpy(std::move(mean), {py::ssize_t(p.rows)});
  out["members"] = to_numpy(std::move(p.values), {py::ssize_t(p.members), py::ssize_t(p.rows)});
  return out;
}

// Variant effects as columns: id, ref, alt, effect, sd, n, sign_agreement.
py::dict effect_columns(const std::vector<VariantEffect>& effects) {
  std::vector<std::string> ids;
  std::vector<double> ref, alt, effect;
  std::vector<MemberSpread> spread;
  for (const VariantEffect& e : effects) {
    ids.push_back(e.id);
    ref.push_back(e.ref);
    alt.push_back(e.alt);
    effect.push_back(e.effect());
    spread.push_back(e.spread);
  }
  const py::ssize_t rows = py::ssize_t(effects.size());
  py::dict out;
  out["id"] = ids;
  out["ref"] = to_numpy(std::move(ref), {rows});
  out["alt"] = to_numpy(std::move(alt), {rows});
  out["effect"] = to_numpy(std::move(effect), {rows});
  for (auto item : spread_columns(spread, true)) out[item.first] = item.second;
  return out;
}

// [N, 4, L] float32 of per-position [L][A C G T] values, L the model's
// length: promoter k fills columns 0 .. its length - 1 (the layout of ohe.npz).
template <typename Rows>
py::array_t<float> channels_first(const std::vector<Rows>& per_sequence, int64_t L) {
  const int64_t N = int64_t(per_sequence.size());
  std::vector<float> out(size_t(N * 4 * L), 0.0f);
  for (int64_t k = 0; k < N; ++k)
    for (size_t i = 0; i < per_sequence[size_t(k)].size(); ++i)
      for (int64_t b = 0; b < 4; ++b) out[size_t((k * 4 + b) * L + int64_t(i))] = float(per_sequence[size_t(k)][i][size_t(b)]);
  return to_numpy(std::move(out), {N, 4, L});
}

std::vector<SequenceRecord> records_of(const std::vector<std::string>& sequences) {
  std::vector<SequenceRecord> records;
  for (size_t k = 0; k < sequences.size(); ++k) records.push_back({std::to_string(k), sequences[k], 0});
  return records;
}

// A table built row by row: its text and number columns named up front, in
// their order, so that a table without rows still has every column.
class Columns {
 public:
  Columns(const std::vector<std::string>& text, const std::vector<std::string>& numbers,
          std::vector<std::string> order)
      : order_(std::move(order)) {
    for (const std::string& name : text) text_[name];
    for (const std::string& name : numbers) numbers_[name];
  }
  void text(std::initializer_list<std::pair<std::string, std::string>> cells) {
    for (const auto& [name, value] : cells) text_.at(name).push_back(value);
  }
  void number(std::initializer_list<std::pair<std::string, double>> cells) {
    for (const auto& [name, value] : cells) numbers_.at(name).push_back(value);
  }
  // The columns in order: lists of str, float64 arrays.
  py::dict dict() {
    py::dict out;
    for (const std::string& name : order_) {
      if (text_.count(name)) out[name.c_str()] = text_[name];
      if (numbers_.count(name)) {
        const py::ssize_t rows = py::ssize_t(numbers_[name].size());
        out[name.c_str()] = to_numpy(std::move(numbers_[name]), {rows});
      }
    }
    return out;
  }

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::vector<std::string>> text_;
  std::map<std::string, std::vector<double>> numbers_;
};

// ---- the model ----

// A loaded model (or ensemble) with its run settings.
class Model {
 public:
  Model(const std::vector<std::string>& checkpoints, const std::string& device, const std::string& dtype, int threads,
        int64_t batch_size) {
    RunSettings settings;
    settings.device = parse_device(device);
    settings.dtype = dtype_from_name(dtype);
    settings.threads = threads;
    settings.batch_size = batch_size;
    settings.interrupt_check = check_python_signals;
    py::gil_scoped_release released;
    predictor_ = std::make_unique<Predictor>(checkpoints, std::move(settings));
  }

  const Predictor& predictor() const { return *predictor_; }

  py::dict predict(const py::object& x) const {
    if (py::isinstance<py::array>(x) && !py::isinstance<py::str>(x)) {
      const py::array a = x.cast<py::array>();
      if (a.ndim() == 3) {
        checked_array<float>(a, 3, "one-hot input [N, 4, L]");
        if (a.shape(1) != 4)
          throw py::value_error("one-hot input must have shape [N, 4, L] (channels A C G T), got [" +
                                std::to_string(a.shape(0)) + ", " + std::to_string(a.shape(1)) + ", " +
                                std::to_string(a.shape(2)) + "]");
        const float* data = static_cast<const float*>(a.data());
        return compute([&] { return predictor_->predict_one_hot(data, a.shape(0), a.shape(2)); });
      }
      checked_array<uint8_t>(a, 2, "token input [N, L]");
      const uint8_t* data = static_cast<const uint8_t*>(a.data());
      return compute([&] { return predictor_->predict_tokens(data, a.shape(0), a.shape(1)); });
    }
    const std::vector<std::string> sequences = as_sequences(x);
    return compute([&] { return predictor_->predict(sequences); });
  }

  py::dict ism(const py::object& x) const {
    const std::vector<SequenceRecord> records = records_of(as_sequences(x));
    std::vector<IsmResult> results;
    {
      py::gil_scoped_release released;
      results = predictor_->ism(records);
    }
    std::vector<std::vector<std::array<double, 4>>> effects, sd;
    std::vector<double> reference;
    for (IsmResult& r : results) {
      effects.push_back(std::move(r.effects));
      sd.push_back(std::move(r.effect_sd));
      reference.push_back(r.reference);
    }
    py::dict out;
    out["effects"] = channels_first(effects, predictor_->seq_len());
    out["sd"] = channels_first(sd, predictor_->seq_len());
    out["reference"] = to_numpy(std::move(reference), {py::ssize_t(results.size())});
    return out;
  }

  std::vector<Attribution> attribute(const py::object& x, const std::string& method, int ig_steps,
                                     const std::string& baseline, int shuffles, uint64_t seed) const {
    AttributionOptions options;
    options.method = attribution_method_from_name(method);
    options.ig_steps = ig_steps;
    options.baseline = ig_baseline_from_name(baseline);
    options.shuffles = shuffles;
    options.seed = seed;
    const std::vector<SequenceRecord> records = records_of(as_sequences(x));
    py::gil_scoped_release released;
    return predictor_->attribute(records, options);
  }

  py::dict variant_effect(const py::object& ref, const py::object& alt) const {
    const std::vector<std::string> refs = as_sequences(ref), alts = as_sequences(alt);
    if (refs.size() != alts.size())
      throw py::value_error("ref and alt must have the same length, got " + std::to_string(refs.size()) + " and " +
                            std::to_string(alts.size()));
    std::vector<Pair> pairs;
    for (size_t k = 0; k < refs.size(); ++k) pairs.push_back({std::to_string(k), refs[k], alts[k]});
    std::vector<VariantEffect> effects;
    {
      py::gil_scoped_release released;
      effects = predictor_->variant_effects(pairs);
    }
    return effect_columns(effects);
  }

  py::dict substitution_effect(const py::object& x, const py::array& substitutions) const {
    const std::vector<std::string> sequences = as_sequences(x);
    checked_array<int64_t>(substitutions, 2, "substitutions [K, 3]");
    if (substitutions.shape(1) != 3)
      throw py::value_error("substitutions must have shape [K, 3] (sequence, position, base), got [" +
                            std::to_string(substitutions.shape(0)) + ", " + std::to_string(substitutions.shape(1)) + "]");
    const int64_t* s = static_cast<const int64_t*>(substitutions.data());
    std::vector<Substitution> subs;
    for (py::ssize_t k = 0; k < substitutions.shape(0); ++k) subs.push_back({s[3 * k], s[3 * k + 1], int(s[3 * k + 2])});
    std::vector<VariantEffect> effects;
    {
      py::gil_scoped_release released;
      effects = predictor_->substitution_effects(sequences, subs);
    }
    return effect_columns(effects);
  }

  py::dict score_vcf(const std::string& vcf_path, const std::string& genome_path, const std::string& bed_path,
                     bool effect_percentiles) const {
    std::vector<std::string> numbers = {"pos", "offset", "ref_prediction", "alt_prediction", "effect", "sd", "n",
                                        "sign_agreement"};
    if (effect_percentiles) numbers.push_back("effect_percentile");
    Columns effects({"chrom", "id", "ref", "alt", "region", "strand"}, numbers,
                    {"chrom", "pos", "id", "ref", "alt", "region", "strand", "offset", "ref_prediction",
                     "alt_prediction", "effect", "sd", "n", "sign_agreement", "effect_percentile"});
    Columns skipped({"chrom", "id", "ref", "alt", "region", "reason"}, {"pos"},
                    {"chrom", "pos", "id", "ref", "alt", "region", "reason"});
    GenomeVariantStats stats;
    std::string warning;
    {
      py::gil_scoped_release released;
      const Genome genome(genome_path, IndexBuild::beside_when_writable, [](const std::string& line) {
        py::gil_scoped_acquire gil;
        log("info", line);  // "genome: built the index ..."
      });
      const std::vector<GenomeRegion> regions = read_genome_regions(genome, bed_path, predictor_->seq_len());
      VcfReader vcf(vcf_path);
      GenomeVariantOptions options;
      options.effect_percentiles = effect_percentiles;
      stats = predictor_->score_vcf(
          genome, regions, vcf, options,
          [&](const RegionVariantEffect& e) {
            const Region& r = e.region->region;
            effects.text({{"chrom", e.chrom}, {"id", e.id}, {"ref", e.ref}, {"alt", e.alt}, {"region", r.name},
                          {"strand", std::string(1, r.strand)}});
            effects.number({{"pos", double(e.pos)}, {"offset", double(e.offset)}, {"ref_prediction", e.reference},
                            {"alt_prediction", e.alternative}, {"effect", e.effect()}, {"sd", e.spread.sd},
                            {"n", double(e.spread.n)}, {"sign_agreement", e.spread.sign_agreement}});
            if (effect_percentiles)  // NaN where the library has none (-1: not an SNV to A, C, G or T)
              effects.number({{"effect_percentile", e.percentile < 0 ? std::nan("") : e.percentile}});
          },
          [&](const SkippedVariant& v) {
            skipped.text({{"chrom", v.chrom}, {"id", v.id}, {"ref", v.ref}, {"alt", v.alt}, {"region", v.region},
                          {"reason", v.reason}});
            skipped.number({{"pos", double(v.pos)}});
          });
      warning = chromosome_naming_warning(stats, genome);
    }
    if (!warning.empty()) log("warning", warning);
    py::dict out;
    out["effects"] = effects.dict();
    out["skipped"] = skipped.dict();
    out["records"] = stats.records;
    return out;
  }

  py::dict design(const py::object& starts, int64_t random, int length, const std::string& target,
                  const std::string& method, int64_t rounds, int64_t width, uint64_t seed, double penalty_sd,
                  const std::string& avoid, double gc_min, double gc_max, int max_homopolymer, int64_t max_edits,
                  const std::string& mutable_ranges, const py::object& on_round) const {
    design::SearchOptions options;
    options.method = design::parse_method(method);
    options.rounds = rounds;
    options.width = width;
    options.seed = seed;
    options.objective = design::parse_objective(target, penalty_sd);
    design::Constraints& c = options.constraints;
    if (!avoid.empty()) c.avoid = design::parse_motifs(avoid, "avoid");
    c.gc_min = gc_min;
    c.gc_max = gc_max;
    c.max_homopolymer = max_homopolymer;
    c.max_edits = max_edits;
    if (!mutable_ranges.empty()) c.mutable_ranges = design::parse_ranges(mutable_ranges, "mutable");
    std::vector<design::Start> start_list;
    if (starts.is_none()) {
      start_list = design::random_starts(random, length, c, seed);
    } else {
      const std::vector<std::string> sequences = as_sequences(starts);
      for (size_t k = 0; k < sequences.size(); ++k)
        start_list.push_back(design::start_of({std::to_string(k), sequences[k], 0}, "sequence " + std::to_string(k),
                                              predictor_->seq_len(), c));
    }
    const int64_t members = predictor_->models().size();
    std::vector<std::string> models, order = {"start_id", "round", "sequence", "n_edits", "edits"};
    for (int64_t m = 0; m < members; ++m) models.push_back("model_" + std::to_string(m + 1));
    order.insert(order.end(), models.begin(), models.end());
    std::vector<std::string> numbers = {"round", "n_edits", "mean", "sd", "score"};
    numbers.insert(numbers.end(), models.begin(), models.end());
    for (const char* name : {"mean", "sd", "score"}) order.push_back(name);
    Columns rows({"start_id", "sequence", "edits"}, numbers, order);
    {
      py::gil_scoped_release released;
      predictor_->design(
          start_list, options,
          [&](const design::Start& start, int64_t round, const design::Scored& best) {
            rows.text({{"start_id", start.id}, {"sequence", start.sequence(best.promoter)},
                       {"edits", design::describe_edits(start.promoter, best.promoter)}});
            rows.number({{"round", double(round)},
                         {"n_edits", double(design::count_edits(start.promoter, best.promoter))},
                         {"mean", best.mean}, {"sd", best.sd}, {"score", best.score}});
            for (int64_t m = 0; m < members; ++m)
              rows.number({{"model_" + std::to_string(m + 1), double(best.predictions[size_t(m)])}});
          },
          [&](const design::RoundReport& r) {
            if (on_round.is_none()) return;
            py::gil_scoped_acquire gil;
            on_round(py::dict(py::arg("round") = r.round, py::arg("rounds") = r.rounds,
                              py::arg("candidates") = r.candidates, py::arg("seconds") = r.seconds,
                              py::arg("mean_score") = r.mean_score, py::arg("best_score") = r.best_score,
                              py::arg("worst_score") = r.worst_score, py::arg("mean_prediction") = r.mean_prediction));
          });
    }
    return rows.dict();
  }

 private:
  py::dict compute(const std::function<EnsemblePredictions()>& run) const {
    EnsemblePredictions p;
    {
      py::gil_scoped_release released;
      p = run();
    }
    return prediction_columns(std::move(p));
  }

  std::unique_ptr<Predictor> predictor_;
};

// ---- training ----

// train() with Python's hooks: `progress` gets a dict after every step,
// `message` each line the trainer tells, and Python's signal handlers run
// once per step; an exception they (or a hook) raise stops the run after the
// step with a checkpoint, as SIGINT does for pf-train, and is raised again
// once train() has returned, so Ctrl-C leaves a resumable run.
py::dict train_run(const std::string& config_path, const std::vector<std::string>& overrides, bool resume,
               const py::object& progress, const py::object& message) {
  Config config = config_path.empty() ? Config{} : load_config(config_path);
  for (const std::string& o : overrides) apply_override(config, o);
  std::optional<py::error_already_set> raised;  // what stopped the run
  auto guarded = [&](const std::function<void()>& call) {
    if (raised) return;
    py::gil_scoped_acquire gil;
    try {
      call();
    } catch (py::error_already_set& e) {
      raised = std::move(e);
    }
  };
  TrainOptions options;
  options.resume = resume;
  options.should_stop = [&] {
    if (std::this_thread::get_id() == g_main_thread) guarded(check_python_signals);  // signals reach it alone
    return raised.has_value();
  };
  if (!progress.is_none())
    options.progress = [&](const TrainProgress& p) {
      guarded([&] {
        progress(py::dict(py::arg("step") = p.step, py::arg("total_steps") = p.total_steps,
                          py::arg("epoch") = p.epoch, py::arg("loss") = p.loss, py::arg("lr") = p.lr,
                          py::arg("samples_per_second") = p.samples_per_second,
                          py::arg("elapsed_seconds") = p.elapsed_seconds, py::arg("eta_seconds") = p.eta_seconds));
      });
    };
  options.message = [&](const std::string& line) { guarded([&] { message(line); }); };
  TrainSummary summary;
  {
    py::gil_scoped_release released;
    summary = proformer::train(config, options);
  }
  if (raised) throw std::move(*raised);
  return py::dict(py::arg("steps") = summary.steps, py::arg("best_val_pearson") = summary.best_val_pearson,
                  py::arg("last_val_pearson") = summary.last_val_pearson,
                  py::arg("best_checkpoint") = summary.best_checkpoint, py::arg("stopped") = summary.stopped,
                  py::arg("train_seconds") = summary.train_seconds);
}

// A model file read by the library (load_model: its format, version and
// every weight checked), for the exports (onnx_export.py, torch_model.py): the
// model config, the label mean and std, and each parameter as float32 numpy
// in the checkpoint's layout, by its checkpoint name.
py::dict read_checkpoint(const std::string& path) {
  LoadedModel loaded = load_model(path);
  py::dict weights;
  for (const auto& [name, tensor] : loaded.model->named_parameters()) {
    const std::vector<int64_t>& shape = tensor.shape();
    weights[py::str(name)] = to_numpy(tensor.to_vector<float>(), std::vector<py::ssize_t>(shape.begin(), shape.end()));
  }
  py::dict out;
  // The config as the checkpoint itself writes it (model_config_to_json), as a dict.
  out["config"] = py::module_::import("json").attr("loads")(model_config_to_json(loaded.model->config()));
  out["label_mean"] = loaded.state.label_stats.mean;
  out["label_std"] = loaded.state.label_stats.std;
  out["weights"] = weights;
  return out;
}

}  // namespace

PYBIND11_MODULE(_proformer, m) {
  m.doc() = "Proformer's C++ library: the compiled core of the proformer package (use `import proformer`).";
  py::register_exception<Error>(m, "ProformerError", PyExc_RuntimeError);
  g_main_thread = std::this_thread::get_id();
#ifdef PF_HAVE_CUDA
  cuda::enable_lazy_backend();  // a GPU is opened by the first model loaded onto device="cuda"
#endif

  py::class_<Attribution>(m, "_Attribution")
      .def_readonly("id", &Attribution::id)
      .def_readonly("bases", &Attribution::bases)
      .def_readonly("prediction", &Attribution::prediction);

  py::class_<Model>(m, "_Model")
      .def(py::init<const std::vector<std::string>&, const std::string&, const std::string&, int, int64_t>(),
           py::arg("checkpoints"), py::arg("device"), py::arg("dtype"), py::arg("threads"), py::arg("batch_size"))
      .def_property_readonly("seq_len", [](const Model& self) { return self.predictor().seq_len(); })
      .def_property_readonly("members", [](const Model& self) { return self.predictor().models().size(); })
      .def_property_readonly("batch_size", [](const Model& self) { return self.predictor().settings().batch_size; })
      .def("predict", &Model::predict, py::arg("x"))
      .def("ism", &Model::ism, py::arg("x"))
      .def("attribute", &Model::attribute, py::arg("x"), py::arg("method"), py::arg("ig_steps"), py::arg("baseline"),
           py::arg("shuffles"), py::arg("seed"))
      .def("variant_effect", &Model::variant_effect, py::arg("ref"), py::arg("alt"))
      .def("substitution_effect", &Model::substitution_effect, py::arg("x"), py::arg("substitutions"))
      .def("score_vcf", &Model::score_vcf, py::arg("vcf"), py::arg("genome"), py::arg("bed"),
           py::arg("effect_percentiles"))
      .def("design", &Model::design, py::arg("starts"), py::arg("random"), py::arg("length"), py::arg("target"),
           py::arg("method"), py::arg("rounds"), py::arg("width"), py::arg("seed"), py::arg("penalty_sd"),
           py::arg("avoid"), py::arg("gc_min"), py::arg("gc_max"), py::arg("max_homopolymer"), py::arg("max_edits"),
           py::arg("mutable"), py::arg("on_round"));
  m.def("_train", &train_run, py::arg("config"), py::arg("overrides"), py::arg("resume"), py::arg("progress"),
        py::arg("message"));
  m.def(
      "one_hot",
      [](const py::object& x) {
        std::vector<std::string> promoters;  // flanks removed
        size_t L = 0;
        for (const std::string& s : as_sequences(x)) {
          promoters.emplace_back(strip_flanks(s));
          L = std::max(L, promoters.back().size());
        }
        std::vector<float> out(promoters.size() * 4 * L, 0.0f);  // [N, 4, L]
        for (size_t k = 0; k < promoters.size(); ++k)
          for (size_t i = 0; i < promoters[k].size(); ++i) {
            const int t = token_of(promoters[k][i]);
            PF_CHECK(t >= 0, "one_hot", "sequence ", k, ": invalid character ", describe_char(promoters[k][i]),
                     " at position ", i + 1, " (expected A, C, G, T or N)");
            if (t <= kT) out[(k * 4 + size_t(t)) * L + i] = 1.0f;
          }
        return to_numpy(std::move(out), {py::ssize_t(promoters.size()), 4, py::ssize_t(L)});
      },
      py::arg("seqs"),
      "One-hot float32 [N, 4, L] (channels A C G T) of promoters given as text, plasmid flanks removed;\n"
      "L is the longest promoter, shorter ones start at column 0 with zero columns after them, and N is an\n"
      "all-zero column. Model.predict reads it back to the same predictions as the text.");
  m.def(
      "model_tokens",
      [](const py::object& x, int seq_len) {
        const std::vector<std::string> sequences = as_sequences(x);
        const size_t row = 2 * size_t(seq_len);
        std::vector<uint8_t> encoded(sequences.size() * row);
        for (size_t k = 0; k < sequences.size(); ++k) {
          try {
            encode_promoter(strip_flanks(sequences[k]), seq_len, encoded.data() + k * row);
          } catch (const Error& e) {
            throw Error("model_tokens: sequence " + std::to_string(k) + ": " + e.what());
          }
        }
        std::vector<int64_t> tokens(encoded.begin(), encoded.end());
        return to_numpy(std::move(tokens), {py::ssize_t(sequences.size()), py::ssize_t(row)});
      },
      py::arg("seqs"), py::arg("seq_len") = 100,
      "The model's input tokens int64 [N, 2 * seq_len] of promoters given as text (plasmid flanks optional):\n"
      "A C G T N = 0..4, the promoter centred in seq_len positions padded with N, then its reverse complement.\n"
      "The input of an exported ONNX graph (input tokens) and of to_torch's forward_tokens.");
  m.def(
      "_strip_flanks", [](const std::string& s) { return std::string(strip_flanks(s)); },
      "The promoter of `s` without the DREAM plasmid flanks, where present.");
  m.def("_read_checkpoint", &read_checkpoint, py::arg("path"),
        "A checkpoint's config, label mean and std, and float32 weights by name (load_model's checks).");
  m.def("_forward_passes", &forward_passes, "Forward passes of predictions run by this process (all threads).");

  // Attributions as arrays [N, 4, L] (L the model's length, ohe.npz's layout).
  m.def("_attribution_arrays", [](const std::vector<Attribution>& attributions, int64_t L) {
    std::vector<std::vector<std::array<float, 4>>> scores, sd, ohe;
    std::vector<double> prediction, prediction_sd;
    for (const Attribution& a : attributions) {
      scores.push_back(a.scores);
      sd.push_back(a.score_sd);
      std::vector<std::array<float, 4>> one_hot(a.bases.size(), {0, 0, 0, 0});
      for (size_t i = 0; i < a.bases.size(); ++i)
        if (const int b = token_of(a.bases[i]); b <= kT) one_hot[i][size_t(b)] = 1;
      ohe.push_back(std::move(one_hot));
      prediction.push_back(a.prediction);
      prediction_sd.push_back(a.spread.sd);
    }
    const py::ssize_t N = py::ssize_t(attributions.size());
    py::dict out;
    out["scores"] = channels_first(scores, L);
    out["sd"] = channels_first(sd, L);
    out["ohe"] = channels_first(ohe, L);
    out["prediction"] = to_numpy(std::move(prediction), {N});
    out["prediction_sd"] = to_numpy(std::move(prediction_sd), {N});
    return out;
  });
  m.def("_save_modisco", [](const std::vector<Attribution>& attributions, const std::string& dir, int64_t L,
                            int64_t members) {
    AttributionFiles files(dir, L, members);
    for (const Attribution& a : attributions) files.write(a);
    files.commit();
  });
}
