"""Shared fixtures: example specs, rendering, and the real kustomize tools.

On a developer machine a missing tool skips its tests with the reason; in CI
(CI=true) a missing tool is a failure, so nothing is skipped silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from kfplug import api

REPO = Path(__file__).resolve().parents[1]
SPECS = {p.relative_to(REPO / "examples").parts[0]: p
         for p in sorted((REPO / "examples").glob("*/federation.yaml"))
         + sorted((REPO / "examples").glob("*/federation/federation.yaml"))}
EXAMPLES = sorted(SPECS)
KUBECTL_DIR = Path("/usr/lib/google-cloud-sdk/bin")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite golden files from the current output (review the diff!)")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


def require_tool(path: str | None, what: str) -> str:
    if path:
        return path
    message = f"{what} not found (run .ci/run, or install it as the README says)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def kustomize_binary() -> str | None:
    for candidate in (os.environ.get("KFPLUG_KUSTOMIZE"), str(REPO / ".tools/bin/kustomize"),
                      shutil.which("kustomize")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def fluxbuild_binary() -> str | None:
    path = REPO / ".tools/bin/fluxbuild"
    return str(path) if path.is_file() else None


def kubectl_binaries() -> list[Path]:
    """Every versioned kubectl installed next to the gcloud kubectl (1.27 ... 1.33)."""
    return sorted(KUBECTL_DIR.glob("kubectl.1.*"), key=lambda p: int(p.name.split(".")[-1]))


@pytest.fixture(scope="session")
def kustomize() -> str:
    return require_tool(kustomize_binary(), "standalone kustomize")


def tool_binary(name: str) -> str | None:
    path = REPO / ".tools/bin" / name
    return str(path) if path.is_file() else shutil.which(name)


@dataclass(frozen=True)
class AgeKey:
    """A throw-away age key for the tests, and the sops that uses it."""
    sops: str
    key_file: Path
    recipient: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "KFPLUG_SOPS": self.sops, "SOPS_AGE_KEY_FILE": str(self.key_file)}

    def decrypt(self, path: Path, *, ignore_mac: bool = False) -> str:
        """`path` decrypted by sops (with ignore_mac, as Flux decrypts a Secret kustomize has changed)."""
        command = [self.sops, "--decrypt", *(["--ignore-mac"] if ignore_mac else []), "--input-type", "yaml",
                   "--output-type", "yaml", str(path)]
        result = subprocess.run(command, capture_output=True, text=True, env=self.env(), timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="session")
def age_key(tmp_path_factory) -> AgeKey:
    sops = require_tool(tool_binary("sops"), "sops")
    keygen = require_tool(tool_binary("age-keygen"), "age-keygen")
    key_file = tmp_path_factory.mktemp("age") / "key.txt"
    subprocess.run([keygen, "-o", str(key_file)], check=True, capture_output=True)
    recipient = next(line.split(": ", 1)[1] for line in key_file.read_text().splitlines()
                     if line.startswith("# public key: "))
    return AgeKey(sops, key_file, recipient)


def init_secrets_for_test(root: Path, key: AgeKey) -> None:
    """`kfplug secrets init`, with a tree that keeps its Secrets in Git encrypted for the test key
    (its own recipients have no private key here)."""
    config = root / ".sops.yaml"
    config.write_text(re.sub(r"age: .*", f"age: {key.recipient}", config.read_text()))
    previous = os.environ.get("KFPLUG_SOPS")
    os.environ["KFPLUG_SOPS"] = key.sops
    try:
        api.init_secrets(root)
    finally:
        os.environ.pop("KFPLUG_SOPS") if previous is None else os.environ.update(KFPLUG_SOPS=previous)


def has_sops() -> bool:
    return bool(tool_binary("sops") and tool_binary("age-keygen"))


def init_secrets_in_plaintext(root: Path) -> None:
    """`kfplug secrets init` without sops (the quick loop, before `make tools`): each *.sops.yaml is written
    as the Secret manifest sops would have encrypted, which is what decrypting it gives. Tests of the
    encryption itself ask for `age_key`, which needs sops."""
    from kfplug.emit import secrets

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(secrets, "_encrypt", lambda out, target, manifest: manifest)
        api.init_secrets(root)


def build(command: list[str], directory: Path) -> str:
    result = subprocess.run([*command, str(directory)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)} {directory} failed:\n{result.stderr}"
    assert result.stdout.strip(), f"{' '.join(command)} {directory} gave no objects"
    return result.stdout


@pytest.fixture(scope="session")
def rendered(request, tmp_path_factory) -> dict[str, Path]:
    """Every example rendered once per session, with its secret files initialised. A tree that keeps its
    Secrets in Git gets them encrypted for a test key and then decrypted in place: what Flux applies
    (without sops, outside CI: written in plaintext, the same manifests)."""
    out = {}
    for example, spec in SPECS.items():
        target = tmp_path_factory.mktemp("render") / example
        api.render(spec, target)
        if (target / ".sops.yaml").is_file() and (has_sops() or os.environ.get("CI")):
            key = request.getfixturevalue("age_key")
            init_secrets_for_test(target, key)
            for encrypted in sorted(target.glob("overlays/*/secrets/*.sops.yaml")):
                encrypted.write_text(key.decrypt(encrypted))
        elif (target / ".sops.yaml").is_file():
            init_secrets_in_plaintext(target)
        else:
            api.init_secrets(target)
        out[example] = target
    return out


def targets(root: Path) -> list[Path]:
    """Every overlay and cluster kustomization of a rendered tree."""
    return sorted(p.parent for p in root.glob("*/*/kustomization.yaml")
                  if p.parent.parent.name in ("overlays", "clusters"))


@pytest.fixture(scope="session")
def built(rendered, kustomize) -> dict[tuple[str, str], list[dict]]:
    """(example, "overlays/<name>" or "clusters/<name>") -> objects built by the standalone kustomize."""
    from objects import parse

    out = {}
    for example, root in rendered.items():
        for directory in targets(root):
            out[(example, f"{directory.parent.name}/{directory.name}")] = parse(
                build([kustomize, "build"], directory))
    return out
