"""The tables of the bench's landing sensor section (landing_sensor.py), from its results."""

from __future__ import annotations

ROUNDS = {
    "first": "empty cursor (every group compared)",
    "idle": "nothing new",
    "nightly_drop": "nightly drop (a new day, every category)",
    "old_file_changed": "one old file changed",
    "boundary_moved": "a month later, nothing new (the recent boundary moved)",
}
LISTS = ("ListObjectsV2", "ListObjects")


def calls_of(ticks: list[dict]) -> str:
    lists = [tick["lists"] for tick in ticks]
    others: dict[str, int] = {}
    for tick in ticks:
        for name, count in tick["calls"].items():
            if name not in LISTS:
                others[name] = others.get(name, 0) + count
    shown = f"{min(lists):,}-{max(lists):,}" if min(lists) != max(lists) else f"{lists[0]:,}"
    extra = ", ".join(f"{name} {count}" for name, count in sorted(others.items()))
    return f"{shown} ({sum(lists):,} in all{'; ' + extra if extra else ''})"


def ticks_of(ticks: list[dict]) -> str:
    """How many ticks, and the groups of folders each listed when a tick did not list them all."""
    groups = [tick.get("groups", 0) for tick in ticks]
    return str(len(ticks)) if len(ticks) == 1 else f"{len(ticks)} ({min(groups)}-{max(groups)} groups a tick)"


def round_rows(count: int, store: str, ticks_result: dict) -> list[str]:
    rows = []
    for measured in ticks_result["rounds"]:
        ticks = measured["ticks"]
        slowest = max(ticks, key=lambda tick: tick["seconds"])
        calls = calls_of(ticks) if store == "s3" else "-"
        rows.append(
            f"| {count:,} | {store} | {ROUNDS[measured['name']]} | {ticks_of(ticks)} | {slowest['seconds']:.2f} s "
            f"({slowest['list_s']:.2f} + {slowest['compare_s']:.2f}) | {sum(t['seconds'] for t in ticks):.1f} s | "
            f"{calls} | {sum(t['runs'] for t in ticks)} | {measured['cursor_bytes']:,} B |"
        )
    return rows


def report(results: dict) -> str:
    machine = results["machine"]
    lines = [
        f"{machine['date']}, {machine['nproc']} cores, {machine['ram_gib']} GiB; load {results['load']:.1f} at the "
        f"start, {results.get('load_after', 0):.1f} at the end",
        "",
        "| categories | store | round | ticks | slowest tick (listing + comparison) | round, wall | "
        "LIST calls a tick (other calls) | runs requested | cursor |",
        "| ---: | --- | --- | ---: | --- | ---: | --- | ---: | ---: |",
    ]
    for counted in results["counts"]:
        for store, measured in counted["stores"].items():
            lines += round_rows(counted["categories"], store, measured["ticks"])
    lines += [
        "",
        "| categories | store | files | bulk load recorded (listing + store) | instance on disk | "
        "ticks process: peak memory, CPU | slowest tick, again under cProfile | one folder's LIST (moto / indexed) |",
        "| ---: | --- | ---: | --- | ---: | --- | --- | --- |",
    ]
    for counted in results["counts"]:
        for store, measured in counted["stores"].items():
            records, ticks = measured["records"], measured["ticks"]
            how = "S3 store's rows, signatures rewritten" if records["how"] == "rewrite" else "mat."
            listing = counted.get("list_one_folder_s") if store == "s3" else None
            shown = f"{listing['moto'] * 1000:.0f} / {listing['indexed'] * 1000:.0f} ms" if listing else "-"
            profiled = f", {ticks['profiled_tick_s']:.2f} s profiled" if "profiled_tick_s" in ticks else ""
            lines.append(
                f"| {counted['categories']:,} | {store} | {counted['files']:,} | {records['materializations']:,} {how} "
                f"in {records['listing_s']:.1f} + {records['store_s']:.1f} s | "
                f"{measured['home_bytes'] / 2**20:.0f} MiB | {ticks['peak_rss_mib']:.0f} MiB, {ticks['cpu']:.0f} s | "
                f"{ticks['slowest_tick_s']:.2f} s{profiled} | {shown} |"
            )
    checks = [
        f"{counted['categories']:,} categories: {measured['ticks']['all_calls'].get('ListObjectsV2', 0):,} "
        f"by the client, {measured['ticks']['server_lists']:,} by the server"
        for counted in results["counts"]
        for store, measured in counted["stores"].items()
        if store == "s3"
    ]
    for counted in results["counts"]:
        query = counted.get("records_query")
        if query:
            lines += [
                "",
                f"{counted['categories']:,} categories, comparison of one group ({query['files']:,} files) with the "
                f"records: {query['seconds']:.2f} s ({query['seconds'] / query['files'] * 1000:.3f} ms a file); "
                f"sqlite {query['sqlite_fetch_s']:.2f} s of {query['profiled_s']:.2f} s under cProfile; "
                f"after ANALYZE {query['after_analyze_s']:.2f} s.",
            ]
    if checks:
        lines += ["", "LIST calls of the ticks process (ticks and its own reads): " + "; ".join(checks) + "."]
    return "\n".join(lines) + "\n"
