#include "proformer/design/search.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "core/error.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/batcher.h"

namespace pf::proformer::design {

namespace {

constexpr std::string_view kAcgt = "ACGT";

// The promoters one round scores, of all starts together: each one goes to
// the Batcher as it is proposed, so the rounds' forward passes are full and
// memory holds no more than a batch of tokens.
class Candidates {
 public:
  Candidates(const Ensemble& models, const Objective& objective, int64_t batch_size)
      : seq_len_(int(models.seq_len())),
        batcher_(models, batch_size, [this, &objective](const PredictedBatch<size_t>& batch) {
          const EnsemblePredictions& p = batch.predictions;
          for (size_t k = 0; k < batch.items.size(); ++k) {
            Scored& s = scored_[batch.items[k]];
            const int64_t row = batch.first_row[k];
            for (int64_t m = 0; m < p.members; ++m) s.predictions.push_back(p.value(m, row));
            s.mean = p.spread[size_t(row)].mean;
            s.sd = p.spread[size_t(row)].sd;
            s.score = objective.score(s.mean, s.sd);
          }
        }) {}

  // `promoter`, encoded anew, as a candidate of start `owner`.
  void add(size_t owner, const std::string& promoter) { encode_promoter(promoter, seq_len_, next(owner, promoter)); }

  // `mutant`, which differs from the promoter encoded in `parent_tokens` only
  // at `position`: the parent's tokens with that position substituted.
  void add_substitution(size_t owner, const std::string& mutant, const std::vector<uint8_t>& parent_tokens,
                        int position) {
    uint8_t* row = next(owner, mutant);
    std::copy(parent_tokens.begin(), parent_tokens.end(), row);
    substitute_base(row, seq_len_, int(mutant.size()), position, uint8_t(token_of(mutant[size_t(position)])));
  }

  // Every candidate scored, in the order they were added.
  std::vector<Scored> score() {
    batcher_.finish();
    return scored_;
  }

  size_t size() const { return scored_.size(); }
  size_t owner(size_t i) const { return owners_[i]; }

 private:
  // The row of a new candidate, [2 * seq_len], to encode.
  uint8_t* next(size_t owner, const std::string& promoter) {
    owners_.push_back(owner);
    scored_.push_back({promoter, {}, 0, 0, 0});
    return batcher_.add(scored_.size() - 1);
  }

  int seq_len_;
  std::vector<size_t> owners_;
  std::vector<Scored> scored_;  // the candidates' promoters, and their scores once predicted
  Batcher<size_t> batcher_;     // items: indices into scored_
};

// One start's search: its designs so far, best first, and its random stream.
struct Search {
  const Start* start = nullptr;
  std::vector<int> mutable_positions;  // 0-based
  std::vector<Scored> population;      // best first
  Generator gen;
};

// Whether `promoter` may be proposed for `search`: new this round, within the
// edit budget and meeting the sequence constraints. Marks it as seen.
bool admissible(const Search& search, const Constraints& c, const std::string& promoter,
                std::set<std::string>& seen) {
  if (!seen.insert(promoter).second) return false;
  if (c.max_edits >= 0 && count_edits(search.start->promoter, promoter) > c.max_edits) return false;
  return sequence_violation(c, promoter).empty();
}

// greedy and beam: every admissible single substitution of every design.
void propose_substitutions(const Search& search, size_t owner, const Constraints& c, int64_t seq_len,
                           std::set<std::string>& seen, Candidates& candidates) {
  std::vector<uint8_t> parent_tokens(size_t(2 * seq_len));  // [2 * seq_len]
  for (const Scored& parent : search.population) {
    encode_promoter(parent.promoter, int(seq_len), parent_tokens.data());
    std::string mutant = parent.promoter;
    for (int position : search.mutable_positions) {
      for (char base : kAcgt) {
        if (base == parent.promoter[size_t(position)]) continue;
        mutant[size_t(position)] = base;
        if (admissible(search, c, mutant, seen)) candidates.add_substitution(owner, mutant, parent_tokens, position);
      }
      mutant[size_t(position)] = parent.promoter[size_t(position)];
    }
  }
}

// evolve: `width` children, each the uniform crossover of two parents chosen
// by tournaments of two, with one random substitution; a child that is not
// admissible is drawn again, up to 20 times.
void propose_children(Search& search, size_t owner, const Constraints& c, int64_t width, std::set<std::string>& seen,
                      Candidates& candidates) {
  const std::vector<Scored>& pop = search.population;  // best first, so the lower index wins a tournament
  auto tournament = [&]() -> const Scored& {
    const uint64_t i = search.gen.below(pop.size());
    const uint64_t j = search.gen.below(pop.size());
    return pop[std::min(i, j)];
  };
  for (int64_t child = 0; child < width; ++child) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const std::string& a = tournament().promoter;
      const std::string& b = tournament().promoter;
      std::string promoter = a;
      for (size_t i = 0; i < promoter.size(); ++i)
        if (a[i] != b[i] && search.gen.below(2) == 1) promoter[i] = b[i];
      const int position = search.mutable_positions[search.gen.below(search.mutable_positions.size())];
      std::string others;  // the three bases the position does not hold
      for (char base : kAcgt)
        if (base != promoter[size_t(position)]) others += base;
      promoter[size_t(position)] = others[search.gen.below(others.size())];
      if (admissible(search, c, promoter, seen)) {
        candidates.add(owner, promoter);
        break;
      }
    }
  }
}

// The `width` best of `pool` (stable: on equal scores the earlier stays first).
std::vector<Scored> best_of(std::vector<Scored> pool, int64_t width) {
  std::stable_sort(pool.begin(), pool.end(), [](const Scored& x, const Scored& y) { return x.score > y.score; });
  if (int64_t(pool.size()) > width) pool.resize(size_t(width));
  return pool;
}

RoundReport summarise(const std::vector<Search>& searches, int64_t round, int64_t rounds, size_t candidates,
                      double seconds) {
  RoundReport r{round, rounds, int64_t(candidates), seconds, 0, searches[0].population[0].score,
                searches[0].population[0].score, 0};
  for (const Search& s : searches) {
    const Scored& best = s.population.front();
    r.mean_score += best.score / double(searches.size());
    r.mean_prediction += best.mean / double(searches.size());
    r.best_score = std::max(r.best_score, best.score);
    r.worst_score = std::min(r.worst_score, best.score);
  }
  return r;
}

}  // namespace

Method parse_method(const std::string& name) {
  if (name == "greedy") return Method::kGreedy;
  if (name == "beam") return Method::kBeam;
  if (name == "evolve") return Method::kEvolve;
  PF_FAIL("design", "method must be greedy, beam or evolve, got '", excerpt(name), "'");
}

int64_t count_edits(const std::string& a, const std::string& b) {
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

std::string describe_edits(const std::string& from, const std::string& to) {
  std::string out;
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != to[i]) {
      if (!out.empty()) out += ',';
      out.append(std::to_string(i + 1)).append({from[i], '>', to[i]});
    }
  return out.empty() ? "-" : out;
}

void run_design(const Ensemble& models, const std::vector<Start>& starts, const SearchOptions& options,
                const DesignSink& design, const RoundSink& report) {
  PF_CHECK(!starts.empty(), "design", "no start sequence");
  PF_CHECK(options.width >= 1 && options.rounds >= 0 && options.batch_size >= 1, "design",
           "width and batch size must be >= 1 and rounds >= 0, got width ", options.width, ", batch size ",
           options.batch_size, ", rounds ", options.rounds);
  const int64_t seq_len = models.seq_len();
  const int64_t width = options.method == Method::kGreedy ? 1 : options.width;
  using Clock = std::chrono::steady_clock;

  std::vector<Search> searches(starts.size());
  for (size_t s = 0; s < starts.size(); ++s) {
    const Start& start = starts[s];
    PF_CHECK(int64_t(start.promoter.size()) <= seq_len, "design", "start '", excerpt(start.id), "' has ",
             start.promoter.size(), " nt but the models read at most ", seq_len);
    searches[s].start = &start;
    searches[s].gen = Generator(options.seed, uint64_t(s) << 40);  // disjoint counter ranges per start
    for (int i = 0; i < int(start.promoter.size()); ++i)
      if (options.constraints.is_mutable(i)) searches[s].mutable_positions.push_back(i);
    PF_CHECK(!searches[s].mutable_positions.empty(), "design", "start '", excerpt(start.id),
             "' has no mutable position (see the mutable ranges)");
  }

  for (int64_t round = 0; round <= options.rounds; ++round) {
    const auto began = Clock::now();
    Candidates candidates(models, options.objective, options.batch_size);
    if (round == 0) {
      for (size_t s = 0; s < searches.size(); ++s) candidates.add(s, starts[s].promoter);  // the starts themselves
    } else {
      for (size_t s = 0; s < searches.size(); ++s) {
        std::set<std::string> seen;  // this start's designs and candidates of this round
        for (const Scored& d : searches[s].population) seen.insert(d.promoter);
        if (options.method == Method::kEvolve)
          propose_children(searches[s], s, options.constraints, width, seen, candidates);
        else
          propose_substitutions(searches[s], s, options.constraints, seq_len, seen, candidates);
      }
    }
    const std::vector<Scored> scored = candidates.score();
    std::vector<std::vector<Scored>> pools(searches.size());
    for (size_t s = 0; s < searches.size(); ++s) pools[s] = searches[s].population;  // the old designs first
    for (size_t i = 0; i < scored.size(); ++i) pools[candidates.owner(i)].push_back(scored[i]);
    for (size_t s = 0; s < searches.size(); ++s) {
      searches[s].population = best_of(std::move(pools[s]), width);
      design(starts[s], round, searches[s].population.front());
    }
    report(summarise(searches, round, options.rounds, candidates.size(),
                     std::chrono::duration<double>(Clock::now() - began).count()));
  }
}

}  // namespace pf::proformer::design
