"""Every built object passes strict schema validation for Kubernetes 1.27 ... 1.33,
and checkov finds nothing beyond the reviewed exceptions in checkov_exceptions.yaml.

Both run offline: the schemas are the ones kubernetes-validate bundles (validated in
process, every error reported, not only the first), and checkov runs with
--skip-download and its update check off.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, REPO, require_tool

VERSIONS = [f"1.{minor}" for minor in range(27, 34)]
EXCEPTIONS_FILE = Path(__file__).with_name("checkov_exceptions.yaml")
MODULES = sorted({p.name for p in (REPO / "bases" / "fate").glob("*/*") if p.is_dir()}
                 | {"kuscia-master", "kuscia-lite", "kuscia-bootstrap"})
NETWORK_POLICY_CHECKS = {"CKV2_K8S_6"}  # pods without a NetworkPolicy: checked on their own, never excepted
CHECKOV_TIMEOUT = 300


# --- schema validation -------------------------------------------------------------------

def schema_library():
    try:
        import kubernetes_validate.utils as utils
    except ImportError:
        require_tool(None, "kubernetes-validate (pip install -e '.[test]')")
    return utils


@functools.cache
def bundled_versions() -> dict[str, str]:
    """Kubernetes minor ("1.27") -> the schema version kubernetes-validate bundles for it."""
    utils = schema_library()
    return {utils.major_minor(v): v for v in utils.all_versions()}


@functools.cache
def _schema(version: str, name: str) -> dict:
    utils = schema_library()
    return utils.schema_contents(f"kubernetes-json-schema/v{bundled_versions()[version]}-local-strict/{name}",
                                 version)


@functools.cache
def validator(version: str, api_version: str, kind: str):
    """The strict validator kubernetes_validate.validate() builds, built once per (version, kind)."""
    import jsonschema
    from referencing import Registry, Resource

    # as kubernetes-validate names its files: networking.k8s.io/v1 -> networking-v1, v1 -> v1
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = _schema(version, f"{kind.lower()}-{group_version}.json")
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ (Resource.from_contents(_schema(version, "_definitions.json"))
                                                 @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


CERT_MANAGER_CRDS = REPO.parent / "shared" / "upstream" / "cert-manager-v1.21.1.tar.gz"


@functools.cache
def crd_validator(api_version: str, kind: str):
    """A validator from the CRD of a kind kfplug renders but Kubernetes does not define (cert-manager's
    Issuer and Certificate, from its pinned CRDs); None for any other kind."""
    import tarfile

    import jsonschema

    group, _, version = api_version.rpartition("/")
    if group != "cert-manager.io":
        return None
    with tarfile.open(CERT_MANAGER_CRDS) as tar:
        member = tar.extractfile(f"cert-manager-v1.21.1/deploy/crds/cert-manager.io_{kind.lower()}s.yaml")
        crd = yaml.safe_load(member.read())
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return jsonschema.Draft202012Validator(served["schema"]["openAPIV3Schema"])


def schema_problems(obj: dict, version: str) -> list[str]:
    check = validator(version, obj.get("apiVersion", ""), obj.get("kind", "")) \
        or crd_validator(obj.get("apiVersion", ""), obj.get("kind", ""))
    if check is None:
        return [f"no schema for {obj.get('apiVersion')} {obj.get('kind')} in Kubernetes {version}"]
    return [f"{error.json_path.removeprefix('$.') or '.'}: {error.message}"
            for error in sorted(check.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))]


def describe(obj: dict) -> str:
    meta = obj.get("metadata", {})
    return f"{obj.get('kind')} {meta.get('namespace', '-')}/{meta.get('name')}"


def test_kubernetes_validate_bundles_every_supported_version():
    missing = [v for v in VERSIONS if v not in bundled_versions()]
    assert not missing, f"the pinned kubernetes-validate bundles no schemas for Kubernetes {missing}"


@pytest.mark.parametrize("version", VERSIONS)
def test_validator_is_strict_and_agrees_with_kubernetes_validate(version):
    """Negative control: a typo'd field and a wrong type fail, here and in the library's own API."""
    schema_library()
    import kubernetes_validate as library

    good = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "osx"},
            "spec": {"selector": {"matchLabels": {"app": "osx"}},
                     "template": {"metadata": {"labels": {"app": "osx"}},
                                  "spec": {"containers": [{"name": "osx", "image": "osx:1",
                                                           "securityContext": {"runAsNonRoot": True}}]}}}}
    assert schema_problems(good, version) == []
    assert library.validate(good, version, strict=True) == version

    bad = json.loads(json.dumps(good))
    bad["spec"]["replicas"] = "one"
    container = bad["spec"]["template"]["spec"]["containers"][0]
    container["securityContex"] = container.pop("securityContext")
    assert schema_problems(bad, version) == [
        "spec.replicas: 'one' is not of type 'integer', 'null'",
        "spec.template.spec.containers[0]: Additional properties are not allowed ('securityContex' was unexpected)",
    ]
    with pytest.raises(library.ValidationError):
        library.validate(bad, version, strict=True)
    assert schema_problems({"apiVersion": "kfplug.dev/v1alpha1", "kind": "Federation"}, version) == [
        f"no schema for kfplug.dev/v1alpha1 Federation in Kubernetes {version}"]


def test_cert_manager_objects_are_checked_against_their_crds():
    good = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "osx-tls"},
            "spec": {"secretName": "osx-tls", "issuerRef": {"name": "kfplug-ca"},
                     "privateKey": {"encoding": "PKCS8"}}}
    assert schema_problems(good, VERSIONS[-1]) == []
    bad = json.loads(json.dumps(good))
    bad["spec"]["privateKey"]["encoding"] = "PKCS9"
    assert schema_problems(bad, VERSIONS[-1]) == ["spec.privateKey.encoding: 'PKCS9' is not one of ['PKCS1', 'PKCS8']"]


@pytest.mark.tools
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_built_object_passes_strict_schema_validation(built, example, version):
    problems, count = [], 0
    for (name, target), objects in sorted(built.items()):
        if name != example:
            continue
        for obj in objects:
            count += 1
            problems += [f"{target}: {describe(obj)}: {p}" for p in schema_problems(obj, version)]
    assert count, f"{example}: no built objects"
    if problems:
        pytest.fail(f"{example}: {len(problems)} schema problem(s) for Kubernetes {version} (strict):\n"
                    + "\n".join(problems), pytrace=False)


# --- checkov -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    kind: str
    namespace: str
    name: str
    module: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.kind} {self.namespace}/{self.name} (module {self.module}): {self.check_name}"


@dataclass
class Report:
    summary: dict
    failed: list[Finding]
    network_policies: int  # NetworkPolicy objects in the scanned build


def load_exceptions() -> dict[str, dict[str, str]]:
    """check id -> {module or "*": reason}."""
    data = yaml.safe_load(EXCEPTIONS_FILE.read_text()) or {}
    return {check: value if isinstance(value, dict) else {"*": value} for check, value in data.items()}


def exception_for(finding: Finding, exceptions: dict[str, dict[str, str]]) -> str | None:
    reasons = exceptions.get(finding.check_id, {})
    return reasons.get(finding.module) or reasons.get("*")


def test_exceptions_file_is_well_formed():
    data = yaml.safe_load(EXCEPTIONS_FILE.read_text())
    assert isinstance(data, dict) and data, f"{EXCEPTIONS_FILE.name}: expected a mapping of check ids"
    problems = []
    for check, value in data.items():
        if not re.fullmatch(r"CKV2?_K8S_\d+", str(check)):
            problems.append(f"{check}: not a checkov Kubernetes check id")
        if check in NETWORK_POLICY_CHECKS:
            problems.append(f"{check}: NetworkPolicy coverage is never excepted (kfplug should render them)")
        reasons = value if isinstance(value, dict) else {"*": value}
        for module, reason in reasons.items():
            if module != "*" and module not in MODULES:
                problems.append(f"{check}.{module}: unknown module (one of {', '.join(MODULES)})")
            if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
                problems.append(f"{check}.{module}: the reason must be one non-empty line")
    assert not problems, f"{EXCEPTIONS_FILE.name}:\n" + "\n".join(problems)


def checkov_binary() -> str | None:
    beside = Path(sys.executable).parent / "checkov"
    return str(beside) if beside.is_file() else shutil.which("checkov")


def checkov_env() -> dict[str, str]:
    """No API key, no guideline download, no PyPI update check: checkov stays offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_", "CKV_", "CHECKOV_"))}
    return {**env, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
            "ANSI_COLORS_DISABLED": "1", "LOG_LEVEL": "WARNING"}


def write_objects(objects: list[dict], path: Path) -> list[tuple[int, int, dict]]:
    """Write a YAML stream; returns each object's first and last line (1-based)."""
    lines, spans = [], []
    for obj in objects:
        text = yaml.safe_dump(obj, sort_keys=False).splitlines()
        spans.append((len(lines) + 2, len(lines) + 1 + len(text), obj))  # after the "---" line
        lines += ["---", *text]
    path.write_text("\n".join(lines) + "\n")
    return spans


def unique_objects(built: dict, example: str) -> list[dict]:
    """Every object of an example once (a cluster build repeats its overlays' objects)."""
    seen = {}
    for (name, _), objects in sorted(built.items()):
        if name == example:
            for obj in objects:
                seen.setdefault(json.dumps(obj, sort_keys=True), obj)
    return list(seen.values())


def owner(spans: list[tuple[int, int, dict]], line: int) -> dict:
    matches = [obj for first, last, obj in spans if first <= line <= last]
    assert len(matches) == 1, f"checkov reported line {line}, which is in {len(matches)} objects"
    return matches[0]


def parse_report(output: str, spans: list[tuple[int, int, dict]], example: str) -> Report:
    data = json.loads(output)
    runs = data if isinstance(data, list) else [data]
    kubernetes = [run for run in runs if run.get("check_type") == "kubernetes"]
    assert len(kubernetes) == 1, f"{example}: checkov gave no kubernetes results:\n{output[:2000]}"
    failed = []
    for result in kubernetes[0]["results"]["failed_checks"]:
        obj = owner(spans, result["file_line_range"][0])
        meta = obj["metadata"]
        failed.append(Finding(result["check_id"], result["check_name"], obj["kind"], meta.get("namespace", "-"),
                              meta["name"], meta.get("labels", {}).get("app.kubernetes.io/name", "?")))
    network_policies = sum(1 for _, _, obj in spans if obj["kind"] == "NetworkPolicy")
    return Report(kubernetes[0]["summary"], failed, network_policies)


@pytest.fixture(scope="session")
def checkov_reports(built, tmp_path_factory) -> dict[str, Report]:
    """checkov once per example, over the example's built objects; the examples run side by side."""
    checkov = require_tool(checkov_binary(), "checkov (pip install -e '.[test]')")
    folder = tmp_path_factory.mktemp("checkov")
    runs = {}
    for example in EXAMPLES:
        path = folder / f"{example}.yaml"
        spans = write_objects(unique_objects(built, example), path)
        command = [checkov, "--file", str(path), "--framework", "kubernetes", "--skip-download",
                   "--quiet", "--compact", "--output", "json"]
        runs[example] = (spans, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                 text=True, env=checkov_env(), cwd=folder))
    reports = {}
    for example, (spans, process) in runs.items():
        try:
            stdout, stderr = process.communicate(timeout=CHECKOV_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail(f"checkov on {example} took more than {CHECKOV_TIMEOUT} s")
        assert process.returncode in (0, 1), f"checkov on {example} exited {process.returncode}:\n{stderr}"
        reports[example] = parse_report(stdout, spans, example)
    return reports


@pytest.mark.tools
@pytest.mark.parametrize("example", EXAMPLES)
def test_checkov_finds_nothing_beyond_the_exceptions(checkov_reports, example):
    report = checkov_reports[example]
    assert report.summary["parsing_errors"] == 0, f"{example}: checkov could not parse the build"
    assert report.summary["passed"] > 0, f"{example}: checkov ran no check"
    exceptions = load_exceptions()
    unexpected = sorted({str(f) for f in report.failed
                         if f.check_id not in NETWORK_POLICY_CHECKS and not exception_for(f, exceptions)})
    if unexpected:
        pytest.fail(f"{example}: {len(unexpected)} checkov failure(s) beyond {EXCEPTIONS_FILE.name} "
                    "(fix the base, or add a reviewed one-line reason):\n" + "\n".join(unexpected), pytrace=False)


@pytest.mark.tools
@pytest.mark.parametrize("example", EXAMPLES)
def test_checkov_every_pod_has_a_network_policy(checkov_reports, example):
    report = checkov_reports[example]
    lacking = sorted({str(f) for f in report.failed if f.check_id in NETWORK_POLICY_CHECKS})
    assert report.network_policies, f"{example}: the build has no NetworkPolicy"
    if lacking:
        pytest.fail(f"{example}: pods without a NetworkPolicy:\n" + "\n".join(lacking), pytrace=False)


@pytest.mark.tools
def test_every_checkov_exception_is_still_needed(checkov_reports):
    exceptions = load_exceptions()
    used = {(f.check_id, f.module if f.module in exceptions.get(f.check_id, {}) else "*")
            for report in checkov_reports.values() for f in report.failed}
    stale = [f"{check} {module}: {reason}" for check, reasons in exceptions.items()
             for module, reason in reasons.items() if (check, module) not in used]
    if stale:
        pytest.fail(f"{len(stale)} entr(y/ies) in {EXCEPTIONS_FILE.name} match no checkov finding in any "
                    "example; delete them:\n" + "\n".join(stale), pytrace=False)
