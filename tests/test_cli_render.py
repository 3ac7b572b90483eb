"""`kfplug render` says what it wrote (stdout, one line) and what comes next (stderr): `kfplug secrets init`
while a generated Secret has no values yet, then the build and apply per cluster."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, SPECS, kustomize_binary, require_tool
from kfplug import api
from kfplug.cli import main

SECRET_FILES = re.compile(r"secrets/[^/]+\.(env|password)$")


def render(spec: Path, out: Path):
    result = CliRunner().invoke(main, ["render", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return result


def tree_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and not SECRET_FILES.search(p.as_posix())]


def test_render_says_what_it_wrote(tmp_path):
    out = tmp_path / "two-party"
    result = render(SPECS["two-party"], out)
    assert result.stdout == (f"wrote {out}: {len(tree_files(out))} files, 2 overlays "
                             f"(cluster default: 9999, 10000)\n")


def test_secrets_init_comes_first_while_values_are_missing(tmp_path):
    out = tmp_path / "two-party"
    steps = render(SPECS["two-party"], out).stderr.splitlines()
    assert steps[0].startswith(f"next: kfplug secrets init {out}    # random values for the Secrets of 9999, 10000")
    assert steps[1:3] == ["then:", f"  kustomize build {out}/clusters/default | kubectl apply -f -    # 9999, 10000"]
    assert f"kustomize build {out}/overlays/<name>" in steps[3]

    api.init_secrets(out)
    steps = render(SPECS["two-party"], out).stderr.splitlines()  # the values are kept across renders
    assert not any("secrets init" in step for step in steps), steps
    assert steps[:2] == ["next:", f"  kustomize build {out}/clusters/default | kubectl apply -f -    # 9999, 10000"]


def test_secrets_init_names_only_the_overlays_that_lack_values(tmp_path):
    out = tmp_path / "two-party"
    render(SPECS["two-party"], out)
    api.init_secrets(out)
    for env in (out / "overlays/10000/secrets").glob("*.env"):
        env.unlink()
    (step, *_) = render(SPECS["two-party"], out).stderr.splitlines()
    assert step.startswith(f"next: kfplug secrets init {out}    # random values for the Secrets of 10000;"), step


def test_secrets_kept_in_git_and_clusters_of_their_own(tmp_path):
    out = tmp_path / "gitops-flux"
    result = render(SPECS["gitops-flux"], out)
    assert result.stdout == (f"wrote {out}: {len(tree_files(out))} files, 2 overlays "
                             f"(cluster org-a: 9999; cluster org-b: 10000)\n")
    steps = [line for line in result.stderr.splitlines() if ": warning: " not in line]  # warnings stay on stderr
    assert steps[0].startswith(f"next: kfplug secrets init {out}    # random values for the Secrets of 9999, 10000, "
                               f"encrypted with sops;")
    assert steps[1:4] == ["then: in each cluster:",
                          f"  kustomize build {out}/clusters/org-a | kubectl apply -f -    # 9999",
                          f"  kustomize build {out}/clusters/org-b | kubectl apply -f -    # 10000"]
    assert steps[-1] == (f"  or commit the tree and point each cluster's Flux at {out}/deploy/flux/<cluster> "
                         f"(docs/gitops.md)")


def test_a_federation_without_generated_secrets_goes_straight_to_the_build(tmp_path):
    out = tmp_path / "multi-cluster"
    steps = render(SPECS["multi-cluster"], out).stderr.splitlines()
    assert steps[0] == "next: in each cluster:"
    assert [s.split()[2] for s in steps[1:4]] == [f"{out}/clusters/{c}" for c in ("org-a", "org-b", "org-c")]


def test_check_prints_no_summary(tmp_path):
    out = tmp_path / "two-party"
    render(SPECS["two-party"], out)
    result = CliRunner().invoke(main, ["render", str(SPECS["two-party"]), "-o", str(out), "--check"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.tools
def test_the_steps_it_prints_build(tmp_path):
    """Run as printed, up to kubectl: secrets init, then kustomize build of each cluster."""
    kustomize = require_tool(kustomize_binary(), "standalone kustomize")
    out = tmp_path / "two-party"
    steps = render(SPECS["two-party"], out).stderr.splitlines()
    commands = [shlex.split(step.removeprefix("next:"), comments=True) for step in steps
                if "kfplug secrets init" in step or ("| kubectl apply" in step and "<name>" not in step)]
    assert commands[0][:3] == ["kfplug", "secrets", "init"]
    result = CliRunner().invoke(main, commands[0][1:])
    assert result.exit_code == 0, result.output
    for command in commands[1:]:
        build = command[:command.index("|")]
        assert build[0] == "kustomize"
        done = subprocess.run([kustomize, *build[1:]], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "kind: StatefulSet" in done.stdout, done.stderr


def test_docs_show_what_it_prints(tmp_path, monkeypatch):
    """docs/cli.md's two blocks under "What render prints" are `kfplug render` of examples/two-party, as is."""
    section = (REPO / "docs/cli.md").read_text().split("### What render prints", 1)[1]
    stdout, stderr = re.findall(r"```\n(.*?)```", section, re.S)[:2]
    monkeypatch.chdir(tmp_path)
    result = render(SPECS["two-party"], Path("out/two-party"))
    assert (result.stdout, result.stderr) == (stdout, stderr)
