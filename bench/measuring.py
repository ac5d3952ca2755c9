"""How the bench measures a command: wall time, CPU time and peak memory of its process tree."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

TEMPLATE = Path(__file__).resolve().parents[1]
RESULTS = TEMPLATE / "bench" / "results"
VERSIONED = ["dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb"]
MIB = 1024 * 1024


@dataclass
class Measure:
    name: str
    wall: float
    cpu: float
    peak_rss_mib: float
    largest_process_mib: float
    returncode: int
    load_before: float
    log: str
    started: float = 0.0  # epoch seconds
    extra: dict = field(default_factory=dict)


class TreeSampler(threading.Thread):
    """Peak of the summed RSS of a process and all its descendants, sampled every `interval`."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.peak = max(self.peak, total)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()


def measure(name: str, cmd: list[str], cwd: Path, env: dict[str, str], logs: Path, check: bool = True) -> Measure:
    """Run `cmd`, its output to logs/<name>.log; wall, tree CPU and tree peak RSS."""
    log = logs / f"{name}.log"
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    t0 = time.perf_counter()
    with log.open("w") as out:
        out.write(f"$ {' '.join(cmd)}\n# cwd {cwd}\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        returncode = proc.wait()
    wall = time.perf_counter() - t0
    sampler.stop()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = Measure(
        name=name,
        wall=wall,
        cpu=cpu,
        peak_rss_mib=sampler.peak / MIB,
        # ru_maxrss of children: the largest single descendant so far (KiB on Linux).
        largest_process_mib=after.ru_maxrss / 1024,
        returncode=returncode,
        load_before=load,
        log=str(log.resolve().relative_to(TEMPLATE) if log.resolve().is_relative_to(TEMPLATE) else log),
        started=started,
    )
    status = "ok" if returncode == 0 else f"FAILED ({returncode})"
    print(
        f"  {name:<34} {wall:8.2f} s wall {cpu:8.2f} s cpu {result.peak_rss_mib:8.0f} MiB peak"
        f"  load {load:4.1f}  {status}",
        flush=True,
    )
    if check and returncode != 0:
        tail = log.read_text()[-3000:]
        sys.exit(f"{name} failed; the end of {log}:\n{tail}")
    return result


def versions(python: Path) -> dict[str, str]:
    code = f"import importlib.metadata as m, json\nprint(json.dumps({{p: m.version(p) for p in {VERSIONED!r}}}))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def machine() -> dict:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
