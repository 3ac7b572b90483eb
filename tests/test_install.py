"""Installing kfplug: the wheel and the editable install build without setuptools' warnings and ship every
module and base, and the install lines the docs give work (kfplug is not on PyPI).

The builds run on a copy of the checkout (pip builds in the source tree) with pip and an index (setuptools
and kfplug's dependencies come from it), so they are `tools` tests.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md")),
        *sorted((REPO / "examples").glob("*/README.md"))]
KRM_README = REPO / "examples/krm-function/README.md"
IGNORED = ("would be ignored", "absent from the `packages` configuration")  # setuptools' warning
# pip's options that take a value (the value is no requirement)
VALUED = {"-f", "--find-links", "-r", "--requirement", "-c", "--constraint", "--build-constraint", "-t", "--target",
          "-i", "--index-url", "--extra-index-url", "-w", "--wheel-dir"}
EMPTY_RESOURCE_LIST = ("{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: [], "
                       "functionConfig: {apiVersion: kfplug.dev/v1alpha1, kind: FederationBuild}}")


def shell_blocks(path: Path) -> list[list[str]]:
    """The lines of each ```sh block of a Markdown file."""
    blocks: list[list[str]] = []
    inside = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```sh"
            if inside:
                blocks.append([])
        elif inside:
            blocks[-1].append(line)
    return blocks


def pip_commands(block: list[str]) -> list[list[str]]:
    return [shlex.split(line, comments=True) for line in block if line.startswith("pip ")]


def requirements(words: list[str]) -> list[str]:
    """What a `pip install` command installs: its arguments that are neither options nor their values."""
    found, skip = [], False
    for word in words[2:]:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in VALUED
        else:
            found.append(word)
    return found


def test_no_install_line_names_a_package_pypi_lacks():
    """kfplug is not on PyPI: every `pip install` the docs show installs a path or a VCS URL, or installs
    from a local wheelhouse (--no-index)."""
    installs = [(path, words) for path in DOCS for block in shell_blocks(path) for words in pip_commands(block)
                if words[1:2] == ["install"]]
    assert any(path == KRM_README for path, _ in installs), f"{KRM_README} shows no pip install"
    for path, words in installs:
        if "--no-index" in words:
            continue
        for requirement in requirements(words):
            assert requirement in (".", "..") or requirement.startswith(("./", "../", "/", "git+")), \
                f"{path.relative_to(REPO)}: `{shlex.join(words)}` installs {requirement!r} from the index"


@pytest.fixture
def source(tmp_path) -> Path:
    """The checkout's files that make the package, copied (pip builds inside the source tree)."""
    copy = tmp_path / "kfplug"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("kfplug", "bases"):
        shutil.copytree(REPO / name, copy / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, copy / name)
    return copy


def run(command: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{shlex.join(str(c) for c in command)}:\n{result.stdout}\n{result.stderr}"
    return result


def quiet(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    warned = [line.strip() for line in output.splitlines() if any(text in line for text in IGNORED)]
    assert not warned, "setuptools takes a directory for a package it would ignore:\n" + "\n".join(warned)


def pip(*args: str | Path) -> list[str | Path]:
    """The venv's pip, as `make install` runs it (setuptools as requirements.lock pins it)."""
    return [sys.executable, "-m", "pip", *args, "--build-constraint", REPO / "requirements.lock"]


@pytest.mark.tools
def test_the_wheel_builds_quietly_and_ships_every_module_and_base(source, tmp_path):
    result = run(pip("wheel", "-v", "--no-deps", "-w", tmp_path / "wheels", source))
    quiet(result)
    (wheel,) = (tmp_path / "wheels").glob("kfplug-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"kfplug/{p.relative_to(REPO / 'kfplug').as_posix()}" for p in (REPO / "kfplug").rglob("*.py")}
    wanted |= {f"kfplug/bases/{p.relative_to(REPO / 'bases').as_posix()}"
               for p in (REPO / "bases").rglob("*") if p.is_file()}
    assert not wanted - shipped, f"missing from the wheel: {sorted(wanted - shipped)}"


@pytest.mark.tools
def test_the_editable_install_is_quiet(source, tmp_path):
    """`make install`'s `pip install -e .`, into a venv of its own."""
    target = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", target])
    quiet(run(pip("--python", target / "bin/python", "install", "-v", "--no-deps", "-e", source)))


@pytest.mark.tools
def test_the_krm_function_readme_installs_kfplug_fn(source, tmp_path):
    """Each shell block of examples/krm-function/README.md, its pip lines run as written from the root of a
    clone, into a fresh venv: kfplug-fn is then on that venv's PATH and runs."""
    blocks = [commands for block in shell_blocks(KRM_README) if (commands := pip_commands(block))]
    assert blocks, f"{KRM_README} shows no pip command"
    for number, commands in enumerate(blocks):
        target = tmp_path / f"venv{number}"
        run([sys.executable, "-m", "venv", target])
        env = {**os.environ, "PATH": f"{target / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("PYTHONPATH", None)
        for words in commands:
            run(words, cwd=source, env=env)
        result = subprocess.run([target / "bin/kfplug-fn"], input=EMPTY_RESOURCE_LIST, env=env, capture_output=True,
                                text=True, timeout=60)
        assert "found 0" in result.stdout, result.stderr  # it ran: the FederationBuild found no Federation
