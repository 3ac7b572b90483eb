"""Membership is one edit: adding a party to the spec changes, in the objects kustomize builds, exactly
what must change — the route configuration of the parties that route to it (and of the exchange), and
so their router's pods, their NetworkPolicy allowances, for Kuscia the master's Domains and routes — and
nothing else. Removal is pruned by kubectl's ApplySet (tests/e2e/test_apply.py, every example)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import SPECS, AgeKey, build
from kfplug import api
from objects import parse

pytestmark = pytest.mark.tools

HASHED = re.compile(r"-[a-z0-9]{10}$")  # kustomize's content-hash suffix (and the bootstrap Job's digest)


def stable(name: str) -> str:
    return HASHED.sub("", name)


def overlays(root: Path, kustomize: str) -> dict[str, dict[tuple[str, str], dict]]:
    """overlay -> (kind, name without its hash) -> object, as kustomize builds it."""
    out = {}
    for directory in sorted((root / "overlays").iterdir()):
        objects = parse(build([kustomize, "build"], directory))
        out[directory.name] = {(o["kind"], stable(o["metadata"]["name"])): o for o in objects}
    return out


def with_a_new_party(tmp_path: Path, example: str, kustomize: str, edit) -> tuple[dict, dict, Path]:
    """Build the example, then the example with `edit` applied to its spec text, re-rendered into the same
    tree (the secret files stay; `secrets init` fills in only the new party's)."""
    tree = tmp_path / "tree"
    api.render(SPECS[example], tree)
    api.init_secrets(tree)
    before = overlays(tree, kustomize)
    spec = tmp_path / "federation.yaml"
    spec.write_text(edit(SPECS[example].read_text()))
    api.render(spec, tree)
    api.init_secrets(tree)
    return before, overlays(tree, kustomize), tree


def changes(before: dict, after: dict) -> dict[str, set[tuple[str, str]]]:
    """overlay -> the objects (kind, stable name) that differ, appeared or went."""
    out = {}
    for name in before.keys() | after.keys():
        old, new = before.get(name, {}), after.get(name, {})
        out[name] = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    return out


def only_config_name_differs(old: dict, new: dict, config: str) -> bool:
    """Two versions of a workload differ only in the hashed name of ConfigMap `config`."""
    text_old, text_new = yaml.safe_dump(old), yaml.safe_dump(new)
    names_old = set(re.findall(rf"{config}-[a-z0-9]{{10}}", text_old))
    names_new = set(re.findall(rf"{config}-[a-z0-9]{{10}}", text_new))
    assert len(names_old) == len(names_new) == 1 and names_old != names_new
    return text_old.replace(names_old.pop(), names_new.pop()) == text_new


def add_party(text: str) -> str:
    return text.replace("    - id: 10000\n", "    - id: 10000\n    - id: 10001\n")


def test_in_a_mesh_every_party_learns_the_new_one_and_only_its_router_rolls(tmp_path, kustomize):
    before, after, tree = with_a_new_party(tmp_path, "two-party", kustomize, add_party)
    changed = changes(before, after)
    assert set(after) == {"9999", "10000", "10001"} and "10001" not in before
    for party in ("9999", "10000"):
        assert changed[party] == {("ConfigMap", "osx-config"), ("Deployment", "osx"), ("NetworkPolicy", "osx")}
        old, new = before[party], after[party]
        assert only_config_name_differs(old[("Deployment", "osx")], new[("Deployment", "osx")], "osx-config")
        table = new[("ConfigMap", "osx-config")]["data"]["route_table.json"]
        assert '"10001"' in table and '"10001"' not in old[("ConfigMap", "osx-config")]["data"]["route_table.json"]
        policy = yaml.safe_dump(new[("NetworkPolicy", "osx")]["spec"])
        assert "fate-10001" in policy and "fate-10001" not in yaml.safe_dump(old[("NetworkPolicy", "osx")]["spec"])
    clusters = yaml.safe_load((tree / "clusters/default/kustomization.yaml").read_text())["resources"]
    assert clusters == ["../../overlays/9999", "../../overlays/10000", "../../overlays/10001"]


def test_in_a_star_only_the_exchange_changes(tmp_path, kustomize):
    before, after, _ = with_a_new_party(tmp_path, "exchange-star", kustomize, add_party)
    changed = changes(before, after)
    router = "rollsite"  # FATE 1.11.2
    assert changed["exchange"] == {("ConfigMap", f"{router}-config"), ("Deployment", router),
                                   ("NetworkPolicy", router)}
    assert only_config_name_differs(before["exchange"][("Deployment", router)],
                                    after["exchange"][("Deployment", router)], f"{router}-config")
    assert not changed["9999"] and not changed["10000"]
    assert set(after) - set(before) == {"10001"}


def add_lite(text: str) -> str:
    return text.replace("  routes: all", "    - id: carol\n      keySecret: {secretName: kuscia-carol-key}\n"
                                         "  routes: all")


def test_in_kuscia_the_master_gets_the_domain_and_routes_and_no_domain_restarts(tmp_path, kustomize):
    before, after, _ = with_a_new_party(tmp_path, "kuscia-centralized", kustomize, add_lite)
    changed = changes(before, after)
    assert changed["master"] == {("ConfigMap", "kuscia-resources"), ("Job", "kuscia-bootstrap"),
                                 ("NetworkPolicy", "kuscia-master")}
    resources = [o for text in after["master"][("ConfigMap", "kuscia-resources")]["data"].values()
                 for o in yaml.safe_load_all(text)]
    assert ("Domain", "carol") in {(o["kind"], o["metadata"]["name"]) for o in resources}
    routes = {o["metadata"]["name"] for o in resources if o["kind"] == "ClusterDomainRoute"}
    assert {"alice-carol", "carol-alice", "bob-carol", "carol-bob"} <= routes
    for lite in ("alice", "bob"):
        assert changed[lite] == {("NetworkPolicy", "kuscia-lite")}, "a lite's routes live in the master"
    assert set(after) - set(before) == {"carol"}


def test_with_flux_the_new_party_is_one_more_kustomization(tmp_path, kustomize, age_key: AgeKey):
    from conftest import init_secrets_for_test

    tree = tmp_path / "tree"
    api.render(SPECS["gitops-flux"], tree)
    init_secrets_for_test(tree, age_key)
    files = {p.relative_to(tree): p.read_bytes() for p in (tree / "deploy").rglob("*") if p.is_file()}
    spec = tmp_path / "federation.yaml"
    spec.write_text(SPECS["gitops-flux"].read_text().replace(
        "      endpoint: 10.20.0.5:30101\n",
        "      endpoint: 10.20.0.5:30101\n    - id: 10001\n      cluster: org-b\n      expose: {nodePort: 30102}\n"
        "      endpoint: 10.20.0.6:30102\n"))
    api.render(spec, tree)
    init_secrets_for_test(tree, age_key)
    now = {p.relative_to(tree): p.read_bytes() for p in (tree / "deploy").rglob("*") if p.is_file()}
    assert set(now) - set(files) == {Path("deploy/flux/org-b/10001.yaml")}
    assert {p for p in files if files[p] != now[p]} == {Path("deploy/flux/org-b/kustomization.yaml")}
    assert sorted(p.name for p in (tree / "overlays/10001/secrets").glob("*.sops.yaml")) == [
        "client.sops.yaml", "fateboard.sops.yaml", "mysql.sops.yaml"]
