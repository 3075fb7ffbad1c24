// How the apps' OpenMP threads wait between parallel regions, chosen so that
// processes sharing the cores do not slow each other down (bench/shared_cores).
//
// An idle OpenMP thread first spins, then sleeps. libgomp's default spin
// (GOMP_SPINCOUNT 300,000 iterations, milliseconds) is harmless while a run
// has the cores to itself; when two runs share them (an ensemble's members, a
// design beside a training run), each spinning thread holds a core that the
// other run's threads wait for, at each of the hundreds of barriers of a
// forward pass. A short spin gives the core back.
//
// libgomp reads GOMP_SPINCOUNT (and OMP_WAIT_POLICY) once, when it is loaded,
// before main() runs: setting it in main() is too late. So run_app starts the
// program anew with it set (exec of /proc/self/exe, same arguments, same
// process id) unless the user has set either variable. The Python module sets
// it before it loads the library (python/proformer/__init__.py).
#pragma once

namespace pf::proformer {

// Iterations an idle thread spins before it sleeps (bench/README.md,
// "Processes that share the cores").
constexpr const char* kOpenMpSpinCount = "30000";

// Returns at once when OMP_WAIT_POLICY or GOMP_SPINCOUNT is set; otherwise
// sets GOMP_SPINCOUNT to kOpenMpSpinCount and execs the program anew, so it
// returns only when that fails (the program then runs with libgomp's default).
void exec_with_openmp_waiting(char** argv);

}  // namespace pf::proformer
