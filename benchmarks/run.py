#!/usr/bin/env python3
"""kfplug benchmarks: whole processes, medians, each figure next to a baseline
measured in the same run.

    python benchmarks/run.py [--runs 15] [--write]

Needs kfplug installed in the running interpreter's environment and the
standalone kustomize (KFPLUG_KUSTOMIZE, .tools/bin/kustomize or PATH).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
EMPTY_LIST = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"


def kustomize() -> str:
    for candidate in (os.environ.get("KFPLUG_KUSTOMIZE"), str(REPO / ".tools/bin/kustomize"),
                      shutil.which("kustomize")):
        if candidate and Path(candidate).is_file():
            return candidate
    sys.exit("standalone kustomize not found (make tools)")


def median_seconds(command: list[str], runs: int, stdin: str | None = None) -> float:
    samples = []
    for _ in range(runs + 1):  # the first run warms caches and is dropped
        start = time.perf_counter()
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, env=ENV)
        samples.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):
            sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    return statistics.median(samples[1:])


def function_figures(runs: int) -> list[tuple[str, float, str, float]]:
    """(what, seconds, baseline, baseline seconds) for the KRM function."""
    tool = kustomize()
    rendered = Path(tempfile.mkdtemp(prefix="kfplug-bench-"))
    try:
        subprocess.run([str(BIN / "kfplug"), "render", str(REPO / "examples/krm-function/federation/federation.yaml"),
                        "-o", str(rendered / "tree")], check=True, env=ENV)
        with_function = median_seconds([tool, "build", "--enable-alpha-plugins", "--enable-exec",
                                        str(REPO / "examples/krm-function/clusters/org-a")], runs)
        plain = median_seconds([tool, "build", str(rendered / "tree/clusters/org-a")], runs)
    finally:
        shutil.rmtree(rendered)
    start_up = median_seconds([str(BIN / "kfplug-fn")], runs, stdin=EMPTY_LIST)
    floor = median_seconds([sys.executable, "-c", "import yaml"], runs)
    return [
        ("`kustomize build` of party 9999 with kfplug-fn (examples/krm-function/clusters/org-a)", with_function,
         "`kustomize build` of the rendered overlay for the same party", plain),
        ("kfplug-fn start-up (an empty ResourceList)", start_up, '`python -c "import yaml"`', floor),
    ]


def machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    if Path("/proc/meminfo").is_file():
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    return f"{platform.machine()}, {cpus} cores{memory}, Python {platform.python_version()}, {platform.system()}"


def table(rows) -> str:
    lines = ["| measured | median | baseline | median | ratio |", "|---|---|---|---|---|"]
    for what, seconds, baseline, base_seconds in rows:
        lines.append(f"| {what} | {seconds * 1000:.0f} ms | {baseline} | {base_seconds * 1000:.0f} ms "
                     f"| {seconds / base_seconds:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (median; one extra warm-up)")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args()
    rows = function_figures(args.runs)
    report = (f"# kfplug benchmark results\n\nMachine: {machine()}. Medians of {args.runs} runs of whole "
              f"processes (one warm-up run dropped); every ratio is against a baseline measured in the same "
              f"run. Regenerate with `python benchmarks/run.py --write`.\n\n## KRM function\n\n{table(rows)}\n")
    print(report)
    if args.write:
        (REPO / "benchmarks/RESULTS.md").write_text(report)


if __name__ == "__main__":
    main()
