"""The scale section's table (bench/scale.py): one row per project, each figure as measured."""

from __future__ import annotations


def seconds(value) -> str:
    if isinstance(value, (int, float)):
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    return "n/a" if value is None else str(value)


def ticks(found: dict | None) -> str:
    if not found or "seconds" not in found:
        return "failed" if found else "n/a"
    return " / ".join(f"{t:.2f}" for t in found["seconds"]) + f" s ({found['peak_mib']:.0f} MiB)"


def backfill(found: dict | None) -> str:
    if not found:
        return "n/a"
    if not found["ok"]:
        return f"failed after {seconds(found['wall'])}"
    events = found["materializations"]
    per_event = found["daily_raw_step"] / max(found["raw_materializations"], 1) * 1000
    return f"{seconds(found['wall'])}; {events:,} mat.; raw step {per_event:.2f} ms/mat."


def build_table(results: dict) -> str:
    info = results["machine"]
    lines = [
        f"Scale bench, {info['date']}, {info['nproc']} cores, {info['ram_gib']} GiB; load at start "
        f"{results.get('load', 'n/a')}. Evaluations: two ticks in a row (s) and peak memory. Backfills: "
        f"the last {results['projects'][0].get('backfill_days', 14) if results['projects'] else 'n/a'} days.",
        "",
        "| partitioning | categories | years | definitions | evaluation, empty | new day, sqlite "
        "| backfill, sqlite | evaluation after it | backfill, PostgreSQL | UI: partition health "
        "| UI: launch one day |",
        "| --- | ---: | ---: | ---: | --- | --- | --- | --- | --- | ---: | ---: |",
    ]
    for p in results["projects"]:
        ui = p.get("ui", {})
        lines.append(
            f"| {p.get('partitioning', 'time_x_category')} | {p['categories']:,} | {p['years']} "
            f"| {seconds(p['definitions'])} | {ticks(p.get('ticks_empty'))} "
            f"| {backfill(p.get('new_day'))} | {backfill(p.get('backfill_sqlite'))} | {ticks(p.get('ticks_history'))} "
            f"| {backfill(p.get('backfill_postgres'))} | {seconds(ui.get('partition_health'))} "
            f"| {seconds(ui.get('launch_one_day'))} |"
        )
    return "\n".join(lines) + "\n"
