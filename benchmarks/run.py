#!/usr/bin/env python3
"""kfplug benchmarks: whole processes, medians, each figure next to a baseline
measured in the same run.

    python benchmarks/run.py [--parties 2,10,100,1000] [--runs 15] [--write]
    python benchmarks/run.py --smoke --parties 10 --runs 1     # CI: does it all still run?

Two sections: the KRM function (kustomize with and without kfplug-fn), and
scale: generated federations of N parties (benchmarks/federation.py) rendered
and validated, next to `python -c "import yaml"` (the interpreter floor) and
`kustomize build` of one rendered party overlay (what users pay per party).
`--write` regenerates benchmarks/RESULTS.md and keeps its hand-written notes
(everything from the line "## Notes" on).

Needs kfplug installed in the running interpreter's environment and the
standalone kustomize (KFPLUG_KUSTOMIZE, .tools/bin/kustomize or PATH).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from federation import FIRST_ID, cluster_count, federation

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks/RESULTS.md"
NOTES = "## Notes"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
EMPTY_LIST = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
HELM_SECONDS = 0.40  # KubeFATE's Helm pipeline for two parties and an exchange, on this machine (issue 7)
WARM_UP = 1  # runs dropped before the measured ones; --smoke sets 0
DISK_RUNS = 5  # renders to disk (and copies) kept to the end of the run: 35,000 files each at 1000 parties


def kustomize() -> str:
    for candidate in (os.environ.get("KFPLUG_KUSTOMIZE"), str(REPO / ".tools/bin/kustomize"),
                      shutil.which("kustomize")):
        if candidate and Path(candidate).is_file():
            return candidate
    sys.exit("standalone kustomize not found (make tools)")


def compile_kfplug() -> None:
    """Byte-compile kfplug as `pip install` does: an editable install run with
    PYTHONDONTWRITEBYTECODE set (as on this machine) would compile every module at every start."""
    for location in importlib.util.find_spec("kfplug").submodule_search_locations:
        compileall.compile_dir(location, quiet=1)


@dataclass
class Figure:
    seconds: float  # median wall time
    rss_mib: float  # largest peak RSS of the measured runs


# A child's peak RSS as the kernel reports it includes what its parent had when it forked; GNU time
# forks the command from a small process, so %M is the command's own. Without it, rusage (an upper bound).
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").is_file() else None


def run_once(command: list[str], stdin: str | None = None) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS in MiB, exit code, stderr) of one child process."""
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as peak:
        argv = [GNU_TIME, "-f", "%M", "-o", peak.name, *command] if GNU_TIME else command
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=errors, env=ENV)
        if stdin:
            child.stdin.write(stdin.encode())
            child.stdin.close()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        kib = int(peak.read().split()[-1]) if GNU_TIME else usage.ru_maxrss
        errors.seek(0)
        return seconds, kib / 1024, child.returncode, errors.read().decode(errors="replace")


@dataclass
class Command:
    argv: list[str] | Callable[[int], list[str]]  # or a function of the run's number (a fresh output dir)
    stdin: str | None = None
    accept: tuple[int, ...] = (0,)  # exit codes that count as success


def measure(commands: dict[str, Command], runs: int, settle: bool = False) -> dict[str, Figure]:
    """Each command `runs` times after WARM_UP dropped rounds, interleaved round by round so that a
    slow spell of the (shared) machine weighs on a figure and its baseline alike. `settle` flushes
    the page cache to disk (untimed) before each run, so that no run pays for its predecessor's writes."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for number in range(WARM_UP + runs):
        for name, command in commands.items():
            argv = command.argv(number) if callable(command.argv) else command.argv
            if settle:
                os.sync()
            seconds, rss, code, errors = run_once(argv, command.stdin)
            if code not in command.accept:
                sys.exit(f"{' '.join(argv)} exited {code}:\n{errors}")
            if number >= WARM_UP:
                samples[name].append((seconds, rss))
    return {name: Figure(statistics.median(t for t, _ in got), max(r for _, r in got))
            for name, got in samples.items()}


FLOOR = Command([sys.executable, "-c", "import yaml"])


def function_figures(runs: int) -> list[tuple[str, float, str, float]]:
    """(what, seconds, baseline, baseline seconds) for the KRM function."""
    tool = kustomize()
    rendered = Path(tempfile.mkdtemp(prefix="kfplug-bench-"))
    try:
        subprocess.run([str(BIN / "kfplug"), "render", str(REPO / "examples/krm-function/federation/federation.yaml"),
                        "-o", str(rendered / "tree")], check=True, env=ENV)
        figures = measure({
            "with_function": Command([tool, "build", "--enable-alpha-plugins", "--enable-exec",
                                      str(REPO / "examples/krm-function/clusters/org-a")], accept=(0, 1)),
            "plain": Command([tool, "build", str(rendered / "tree/clusters/org-a")], accept=(0, 1)),
            "start_up": Command([str(BIN / "kfplug-fn")], stdin=EMPTY_LIST, accept=(0, 1)),
            "floor": FLOOR,
        }, runs)
    finally:
        shutil.rmtree(rendered)
    seconds = {name: figure.seconds for name, figure in figures.items()}
    return [
        ("`kustomize build` of party 9999 with kfplug-fn (examples/krm-function/clusters/org-a)",
         seconds["with_function"], "`kustomize build` of the rendered overlay for the same party", seconds["plain"]),
        ("kfplug-fn start-up (an empty ResourceList)", seconds["start_up"], '`python -c "import yaml"`',
         seconds["floor"]),
    ]


@dataclass
class Scale:
    parties: int
    spec_bytes: int
    files: int  # written by one render
    render: Figure  # into memory (tmpfs): kfplug's own cost
    validate: Figure
    build: Figure  # `kustomize build` of the first party's overlay
    floor: Figure  # `python -c "import yaml"`, interleaved with the above
    render_disk: Figure | None  # into the temporary directory on disk, when that is not the same
    copy_disk: Figure | None  # `cp -r` of a rendered tree to the same disk, interleaved with render_disk


def memory_dir() -> Path | None:
    """A tmpfs to render into, so the figures measure kfplug and not the disk under it."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


def scale_figures(parties: int, runs: int, disk: Path | None) -> Scale:
    """Render and validate a generated federation of `parties`, and build one of its overlays;
    render it to `disk` too, unless that is None (no tmpfs: the main figure is on disk already)."""
    kfplug = str(BIN / "kfplug")
    with tempfile.TemporaryDirectory(prefix="kfplug-scale-", dir=memory_dir()) as work:
        spec = Path(work) / "federation.yaml"
        spec.write_text(federation(parties))
        out = Path(work) / "built"
        subprocess.run([kfplug, "render", str(spec), "-o", str(out)], check=True, env=ENV, capture_output=True)
        subprocess.run([kfplug, "secrets", "init", str(out)], check=True, env=ENV, capture_output=True)
        files = sum(1 for path in out.rglob("*") if path.is_file() and not path.name.endswith(".env"))
        figures = measure({
            "render": render_command(spec, Path(work)),
            "validate": Command([kfplug, "validate", str(spec)]),
            "build": Command([kustomize(), "build", str(out / "overlays" / str(FIRST_ID))]),
            "floor": FLOOR,
        }, runs)
        on_disk = {}
        if disk:
            rendered = Path(work) / "rendered"  # as render writes it: no secrets init
            subprocess.run([kfplug, "render", str(spec), "-o", str(rendered)], check=True, env=ENV,
                           capture_output=True)
            target = Path(tempfile.mkdtemp(dir=disk))
            on_disk = measure({
                "render": render_command(spec, target),
                "copy": Command(lambda number: ["cp", "-r", str(rendered), str(target / f"copy-{number}")]),
            }, min(runs, DISK_RUNS), settle=True)
        return Scale(parties, spec.stat().st_size, files, figures["render"], figures["validate"], figures["build"],
                     figures["floor"], on_disk.get("render"), on_disk.get("copy"))


def render_command(spec: Path, work: Path) -> Command:
    """`kfplug render` into a fresh directory under `work` each run. Trees on disk are removed only
    at the end: removing one makes the renders after it wait for the disk's discards of its blocks."""
    return Command(lambda number: [str(BIN / "kfplug"), "render", str(spec), "-o", str(work / f"out-{number}")])


def machine() -> str:
    cpus = os.cpu_count()
    memory = model = ""
    if Path("/proc/meminfo").is_file():
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    if Path("/proc/cpuinfo").is_file():
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        model = f" ({names[0]})" if names else ""
    return f"{platform.machine()}{model}, {cpus} cores{memory}, Python {platform.python_version()}, {platform.system()}"


def revision() -> str:
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def table(rows) -> str:
    lines = ["| measured | median | baseline | median | ratio |", "|---|---|---|---|---|"]
    for what, seconds, baseline, base_seconds in rows:
        lines.append(f"| {what} | {ms(seconds)} | {baseline} | {ms(base_seconds)} "
                     f"| {seconds / base_seconds:.2f}x |")
    return "\n".join(lines)


def scale_table(rows: list[Scale]) -> str:
    lines = ["| parties (+ exchange) | clusters | spec | files written | `kfplug render` | peak RSS "
             "| `kfplug validate` | `kustomize build` of one party | render / one party build "
             "| floor | render / floor | `kfplug render` to disk | `cp -r` of its output to disk | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        disk = (f"{ms(row.render_disk.seconds)} | {ms(row.copy_disk.seconds)} "
                f"| {row.render_disk.seconds / row.copy_disk.seconds:.2f}x" if row.render_disk
                else "(no tmpfs: same as render) | | ")
        lines.append(f"| {row.parties} | {cluster_count(row.parties)} | {row.spec_bytes / 1024:,.0f} KiB "
                     f"| {row.files:,} | {ms(row.render.seconds)} | {row.render.rss_mib:.0f} MiB "
                     f"| {ms(row.validate.seconds)} | {ms(row.build.seconds)} "
                     f"| {row.render.seconds / row.build.seconds:.2f}x | {ms(row.floor.seconds)} "
                     f"| {row.render.seconds / row.floor.seconds:.1f}x "
                     f"| {disk} |")
    return "\n".join(lines)


def target_rows(rows: list[Scale]) -> list[tuple[str, str, str, str, str, bool]]:
    """(target, limit, measured, baseline, ratio, met) for each target the measured sizes allow."""
    by_size = {row.parties: row for row in rows}
    out = []
    if 2 in by_size:
        small, floor = by_size[2].render, by_size[2].floor
        out.append(("2 parties + exchange: `kfplug render`", "≤ 0.2 s", ms(small.seconds) + _on_disk(by_size[2]),
                    f"KubeFATE's Helm pipeline, same federation: {ms(HELM_SECONDS)} (quoted in issue 7, "
                    f"not re-run); floor `python -c \"import yaml\"`: {ms(floor.seconds)}",
                    f"{small.seconds / HELM_SECONDS:.2f}x Helm; {small.seconds / floor.seconds:.1f}x floor",
                    small.seconds <= 0.2))
    if 1000 in by_size:
        large = by_size[1000]
        floor = large.floor
        out.append(("1000 parties + exchange: `kfplug render`", "≤ 5 s", ms(large.render.seconds) + _on_disk(large),
                    f"`kustomize build` of one party overlay: {ms(large.build.seconds)}",
                    f"{large.render.seconds / large.build.seconds:.1f}x one party build "
                    f"({large.render.seconds / 1001 / large.build.seconds:.3f}x per overlay)",
                    large.render.seconds <= 5))
        out.append(("1000 parties + exchange: peak RSS of `kfplug render`", "≤ 300 MiB",
                    f"{large.render.rss_mib:.0f} MiB",
                    f"`python -c \"import yaml\"`: {floor.rss_mib:.0f} MiB",
                    f"{large.render.rss_mib / floor.rss_mib:.1f}x floor", large.render.rss_mib <= 300))
    if 100 in by_size and 1000 in by_size:
        growth = by_size[1000].render.seconds / by_size[100].render.seconds
        out.append(("linear in parties: t(1000) / t(100) of `kfplug render`", "≤ 11", f"{growth:.2f}",
                    "parties ratio 1001 / 101 = 9.91", f"{growth / (1001 / 101):.2f}x linear", growth <= 11))
    return out


def _on_disk(row: Scale) -> str:
    if not row.render_disk:
        return ""
    return (f" (to disk: {ms(row.render_disk.seconds)}, "
            f"{row.render_disk.seconds / row.copy_disk.seconds:.2f}x `cp -r` of its output)")


def targets_table(targets) -> str:
    lines = ["| target | limit | measured | baseline | ratio | met |", "|---|---|---|---|---|---|"]
    lines += [f"| {what} | {limit} | {measured} | {baseline} | {ratio} | {'yes' if met else '**no**'} |"
              for what, limit, measured, baseline, ratio, met in targets]
    return "\n".join(lines)


def report(args, function_rows, scale_rows) -> str:
    return (
        f"# kfplug benchmark results\n\nMachine: {machine()}. kfplug {revision()}, byte-compiled as after "
        f"`pip install`. Medians of {args.runs} runs of whole processes "
        f"({'one warm-up run dropped' if WARM_UP else 'no warm-up'}); every ratio is against a baseline "
        f"measured in the same run. Regenerate with `python benchmarks/run.py --write`.\n\n"
        f"## KRM function\n\n{table(function_rows)}\n\n"
        f"## Scale\n\nGenerated federations (benchmarks/federation.py): a star with an exchange, parties spread "
        f"over ceil(N/50) clusters (at least two), NodePort and LoadBalancer routers with cross-cluster "
        f"endpoints, mixed storage (storageClass, nfs, none, default), ingress, placement, secret references, "
        f"replicas and resource overrides. `kfplug render` writes a fresh directory each run, in memory (tmpfs, "
        f"/dev/shm) so that the figure is kfplug's own cost; the last columns render into the system's "
        f"temporary directory on disk instead, next to `cp -r` of the same tree to the same disk (what writing "
        f"these files costs any tool), interleaved, median of at most {DISK_RUNS} runs each, each run after "
        f"an untimed `sync`; trees on disk are removed at the end of the run (see the notes). Peak RSS is the "
        f"largest of the runs. The party built is {FIRST_ID} (after `kfplug secrets init`). The floor is "
        f"`python -c \"import yaml\"`. Each size's commands and its floor run interleaved, round by round.\n\n"
        f"{scale_table(scale_rows)}\n\n### Targets\n\n{targets_table(target_rows(scale_rows))}\n"
    )


def kept_notes() -> str:
    text = RESULTS.read_text() if RESULTS.is_file() else ""
    return text[text.index(NOTES):] if NOTES in text else ""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per command (median; one extra warm-up)")
    parser.add_argument("--parties", default="2,10,100,1000",
                        type=lambda text: [int(n) for n in text.split(",")],
                        help="federation sizes for the scale section, comma-separated")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    parser.add_argument("--smoke", action="store_true",
                        help="check that every command runs (no warm-up; writes nothing)")
    args = parser.parse_args()
    if args.smoke and args.write:
        parser.error("--smoke writes nothing; drop --write")
    if args.runs < 1 or any(n < 1 for n in args.parties):
        parser.error("--runs and --parties need positive numbers")
    return args


def main() -> None:
    global WARM_UP
    args = parse_args()
    if args.smoke:
        WARM_UP = 0
    compile_kfplug()
    function_rows = function_figures(args.runs)
    disk = Path(tempfile.mkdtemp(prefix="kfplug-bench-disk-")) if memory_dir() else None
    try:
        scale_rows = [scale_figures(parties, args.runs, disk) for parties in args.parties]
    finally:
        if disk:
            shutil.rmtree(disk)
    text = report(args, function_rows, scale_rows)
    if args.smoke:  # one line: in CI it follows the test summary
        print(f"benchmarks smoke: every command ran ({len(function_rows)} KRM figures; parties "
              f"{', '.join(str(row.parties) for row in scale_rows)}); timings are not checked")
        return
    print(text)
    if args.write:
        notes = kept_notes()
        RESULTS.write_text(text + (f"\n{notes}" if notes else ""))


if __name__ == "__main__":
    main()
