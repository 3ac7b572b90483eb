"""The in-process emitter, kfplug.api.build_objects (what `kfplug fn` returns inside kustomize and kpt),
gives for every example and each of its overlays what the real `kustomize build overlays/<name>` of the
rendered tree gives: the same objects, field for field, in the same order.

An overlay that generates Secrets from git-ignored files (examples/two-party) cannot be built in-process:
the emitter reads no files and refuses it, by design (`kfplug fn` asks for secretName instead). For that
example the refusal itself is checked, and everything else in it is compared through the same spec with
named Secrets (`defaults.secrets.<name>.secretName`) rendered and built by kustomize.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, SPECS, build
from kfplug import api
from objects import key, parse

pytestmark = pytest.mark.tools


def generates_secret_files(example: str) -> bool:
    """A FATE spec that names no existing Secret: its overlays generate them from files (see the module
    docstring), plain or SOPS-encrypted."""
    spec = yaml.safe_load(SPECS[example].read_text())["spec"]
    return spec["runtime"] == "fate" and "secrets" not in spec.get("defaults", {}) \
        and not [p for p in spec["parties"] if "secrets" in p]


SECRET_FILES = {example for example in EXAMPLES if generates_secret_files(example)}
NAMED_SECRETS = ("  defaults:\n    secrets:\n      mysql: {secretName: fate-mysql}\n"
                 "      fateboard: {secretName: fate-fateboard}\n      client: {secretName: fate-notebook}\n")


def dump(objects: list[dict]) -> list[str]:
    return yaml.safe_dump_all(objects, sort_keys=True, default_flow_style=False, width=120).splitlines()


def difference(overlay: str, kustomize: list[dict], emitted: list[dict]) -> str | None:
    """None when equal; else a unified diff of the objects (sorted by kind, namespace, name), or of their order."""
    by_key = sorted(kustomize, key=key), sorted(emitted, key=key)
    if by_key[0] != by_key[1]:
        return "\n".join(difflib.unified_diff(dump(by_key[0]), dump(by_key[1]), f"kustomize build {overlay}",
                                              f"build_objects {overlay}", lineterm=""))
    order = [[f"{k[0]}/{k[1]}/{k[2]}" for k in map(key, objects)] for objects in (kustomize, emitted)]
    if order[0] != order[1]:
        return "\n".join(difflib.unified_diff(order[0], order[1], f"order of kustomize build {overlay}",
                                              f"order of build_objects {overlay}", lineterm=""))
    return None


def overlay_names(root: Path) -> list[str]:
    names = sorted(p.parent.name for p in (root / "overlays").glob("*/kustomization.yaml"))
    assert names, f"{root} has no overlays"
    return names


def assert_emitter_equals_kustomize(federation, root: Path, kustomize_objects) -> None:
    """`kustomize_objects(name)`: what kustomize built from root/overlays/<name>."""
    problems, union = [], []
    for name in overlay_names(root):
        expected = kustomize_objects(name)
        assert expected, f"kustomize built nothing from overlays/{name}"
        union += expected
        found = difference(f"overlays/{name}", expected, api.build_objects(federation, [name]))
        if found:
            problems.append(found)
    assert not problems, "the in-process build differs from kustomize:\n" + "\n".join(problems)
    everything = api.build_objects(federation)  # no selection: every overlay at once
    assert sorted(everything, key=key) == sorted(union, key=key)


@pytest.mark.parametrize("example", EXAMPLES)
def test_in_process_build_equals_kustomize_for_every_overlay(rendered, built, kustomize, tmp_path, example):
    if example not in SECRET_FILES:
        assert_emitter_equals_kustomize(api.load(SPECS[example]), rendered[example],
                                        lambda name: built[(example, f"overlays/{name}")])
        return
    text = SPECS[example].read_text()
    document = yaml.safe_load(text)["spec"]
    assert "secrets" not in document.get("defaults", {}) and not [p for p in document["parties"] if "secrets" in p]
    variant = tmp_path / "federation.yaml"
    if (SPECS[example].parent / "pki").is_dir():  # the CA certificates the spec names
        shutil.copytree(SPECS[example].parent / "pki", tmp_path / "pki")
    if "defaults" in document:
        variant.write_text(text.replace("  defaults:\n", NAMED_SECRETS, 1))
    else:
        variant.write_text(text.replace("  parties:\n", NAMED_SECRETS + "  parties:\n", 1))
    out = tmp_path / "out"
    api.render(variant, out)
    assert not list(out.glob("overlays/*/secrets")), "the variant still generates Secrets"
    assert_emitter_equals_kustomize(api.load(variant), out,
                                    lambda name: parse(build([kustomize, "build"], out / "overlays" / name)))


@pytest.mark.parametrize("example", sorted(SECRET_FILES))
def test_generated_secrets_are_refused_in_process(rendered, example):
    federation = api.load(SPECS[example])
    for name in overlay_names(rendered[example]):
        with pytest.raises(Exception, match=r"(?is)secrets.*files"):  # a refusal that names the cause
            api.build_objects(federation, [name])


def test_every_example_is_compared():
    assert set(EXAMPLES) >= {"two-party", "exchange-star", "krm-function", "multi-cluster", "kuscia-centralized",
                             "kuscia-multi-cluster", "gitops-flux", "gitops-argocd"}
    assert set(EXAMPLES) == {p.name for p in SPECS["two-party"].parents[1].iterdir() if p.is_dir()}
    assert {"two-party", "gitops-flux"} <= SECRET_FILES
