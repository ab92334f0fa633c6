"""bench-results/results.json as Markdown tables, for docs/performance.md:

    python -m bench.report [bench-results/results.json]
"""
import json
import sys
from pathlib import Path

from bench.common import RESULTS_DIR


def _figure(r: dict) -> str:
    if r["case"].startswith("http"):
        return f"{r.get('rps', 0):.1f} req/s"
    if r.get("n", 0) == 1:
        return f"{r['p50_ms'] / 1000:.1f} s"
    return f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f}"


def _notes(r: dict) -> str:
    notes = []
    if r["case"].startswith("roll-up"):
        notes.append(f"floor {r.get('floor_p50_ms')} ms, ×{r.get('ratio')}"
                     + ("" if r.get("numbers_agree") else ", numbers differ!"))
    if r["case"].startswith("http") and not r.get("requests"):
        notes.append(f"no request completed within the {r.get('duration_s', 0):.0f} s run "
                     "(wrk timeout 10 s)")
    elif r["case"].startswith("http"):
        notes.append(f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, "
                     f"{r.get('errors', 0)} errors")
        if r.get("ratio") is not None:
            notes.append(f"{100 * r['ratio']:.1f} % of bare")
        if r.get("worker_rss_mb"):
            notes.append(f"RSS ≤ {r['worker_rss_mb']} MB/worker")
    if r.get("rows"):
        notes.append(f"{r['rows']:,} rows")
    if r.get("written") is not None:
        notes.append(f"{r['written']:,} notifications written, {r.get('open_tickets', 0):,} "
                     "open tickets")
    if r.get("error"):
        notes.append(f"error: {r['error']}")
    return "; ".join(notes)


def markdown(document: dict) -> str:
    machine = document["machine"]
    lines = [f"Scale {document['scale']:,} tickets; {machine['cores']} cores, "
             f"{machine['memory_gb']} GB; load average at start "
             f"{', '.join(f'{x:.1f}' for x in machine['load_average_at_start'])}; "
             f"{document['started_at'][:16]} UTC.", ""]
    for name, block in document["databases"].items():
        if block.get("skipped"):
            lines += [f"### {name}: skipped ({block['skipped']})", ""]
            continue
        generated = block.get("generate")
        lines.append(f"### {name}")
        if generated:
            lines.append(f"Generated {generated['tickets']:,} tickets, {generated['units']:,} "
                         f"units, {generated['findings']:,} findings, "
                         f"{generated['rows_loaded']:,} rows in {generated['seconds']} s.")
        lines += ["", "| case | role | p50 / p95 ms (or total) | stmts | peak MB | targets | "
                  "notes |", "| --- | --- | ---: | ---: | ---: | --- | --- |"]
        for r in block["cases"]:
            checks = ", ".join(f"{'✓' if ok else '✗'} {n}" for n, ok in r.get("checks", []))
            lines.append(f"| {r['case']} | {r.get('role', '')} | {_figure(r)} | "
                         f"{r.get('statements', '')} | {r.get('peak_mb', '')} | {checks} | "
                         f"{_notes(r)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else RESULTS_DIR / "results.json"
    print(markdown(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
