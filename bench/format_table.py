"""Formats bench/cpu_vs_pytorch's JSON lines (one per run) as its two tables.

    python3 bench/format_table.py results.jsonl
"""
import json
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    peaks = {r["threads"]: r["fp32_gflops"] for r in rows if r["row"] == "peak"}
    print("fp32 peak (register FMA loop): " + ", ".join(f"{t} thread(s) {p:.0f} GFLOP/s" for t, p in peaks.items()))
    table = [r for r in rows if r["row"] == "table"]
    for r in table:  # ours with PF_CPU_GEMM=ours, a column of its own
        if r["impl"] == "proformer-cpp" and "(PF_CPU_GEMM)" in r.get("cpu_gemm", ""):
            r["impl"] = "proformer-cpp-sgemm"
    engine = next((r["cpu_gemm"] for r in table if r["impl"] == "proformer-cpp"), "-")
    print(f"ours: CPU GEMM {engine}; sgemm: ours with PF_CPU_GEMM=ours")
    print("samples/s (median); ratio = ours / best PyTorch 2 (eager or compile); GFLOP/s and % of the fp32 peak"
          " (measured again right after our row); peak RSS in MB")
    head = (f"{'config':<6} {'mode':<5} {'batch':>5} {'thr':>3} | {'ours':>7} {'sgemm':>7} {'eager':>7} {'compile':>7} {'ORT':>7} |"
            f" {'ratio':>5} | {'ours GF/s':>9} {'%pk':>4} | {'best GF/s':>9} {'%pk':>4} | {'RSS ours':>8} {'best':>6}")
    print(head)
    print("-" * len(head))
    keys = sorted({(r["config"], r["mode"], r["batch"], r["threads"]) for r in table},
                  key=lambda k: (k[0] != "full", k[1], k[3], k[2]))
    for key in keys:
        by = {r["impl"]: r for r in table if (r["config"], r["mode"], r["batch"], r["threads"]) == key}
        ours = by["proformer-cpp"]
        gflop_per_sample = ours["gflops"] / ours["per_s"]
        torch2 = [by[i] for i in ("eager", "compile") if i in by]
        best = max(torch2, key=lambda r: r["per_s"]) if torch2 else None  # None: a partial run
        cell = lambda impl: f"{by[impl]['per_s']:>7.2f}" if impl in by else f"{'-':>7}"
        ratio = f"{ours['per_s'] / best['per_s']:>4.2f}x" if best else f"{'-':>5}"
        best_gflops = best["per_s"] * gflop_per_sample if best else 0.0
        best_rss = f"{best['peak_rss_mb']:>6.0f}" if best else f"{'-':>6}"
        print(f"{key[0]:<6} {key[1]:<5} {key[2]:>5} {key[3]:>3} | {cell('proformer-cpp')}"
              f" {cell('proformer-cpp-sgemm')} {cell('eager')}"
              f" {cell('compile')} {cell('onnxruntime')} | {ratio} |"
              f" {ours['gflops']:>9.1f} {ours['pct_peak']:>3.0f}% | {best_gflops:>9.1f}"
              f" {100 * best_gflops / ours.get('peak_gflops', peaks[key[3]]):>3.0f}% | {ours['peak_rss_mb']:>8.0f} {best_rss}")
    print()
    print("full model, training step, 2 threads, ours: per-sample cost against batch size")
    head = (f"{'batch':>5} | {'samples/s':>9} {'ms/sample':>9} | {'%pk':>4} | {'minor faults/step':>17}"
            f" {'sys s/step':>10} {'sys % CPU':>9} | {'RSS MB':>7} {'cache MB':>8}")
    print(head)
    print("-" * len(head))
    for r in sorted((r for r in rows if r["row"] == "batch"), key=lambda r: r["batch"]):
        system_share = 100 * r["system_s_per_step"] / (r["median_s"] * r["threads"])
        print(f"{r['batch']:>5} | {r['per_s']:>9.2f} {1000 / r['per_s']:>9.1f} | {r['pct_peak']:>3.0f}% |"
              f" {r['minor_faults_per_step']:>17.0f} {r['system_s_per_step']:>10.3f} {system_share:>8.1f}% |"
              f" {r['peak_rss_mb']:>7.0f} {r['host_cached_mb']:>8.0f}")


if __name__ == "__main__":
    main()
