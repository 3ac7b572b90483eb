"""Every Kuscia pod's assembled kuscia.yaml holds only keys Kuscia 1.1.0b0 reads, each of a type it decodes.

The file a Kuscia container reads is not in any manifest: the init container `kuscia-config`
assembles it when the pod starts, from the generated ConfigMap and the mounted Secret files. So,
for every Deployment of every Kuscia example in every build target, the init container's own
script from the built object is run under `sh` (test_kuscia_build.run_init: its volumes laid out
in a temp directory, test values in the Secret files, with and without the lite Service's
service-link variable), and the file it writes is checked against tests/kuscia_config_keys.yaml,
the table of key paths, YAML types and required keys per mode read from Kuscia's config structs.

The check follows gopkg.in/yaml.v3 as Kuscia calls it (see `decoding` in the table), on YAML
nodes rather than loaded Python values, so that a scalar's text counts as yaml.v3 sees it:
a repeated key, a mapping where a string belongs, a scalar where a list belongs, a quoted number
for an int are errors there and here. It is stricter than Kuscia in one point on purpose:
Kuscia drops a key it does not know without a word, and this test rejects it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from conftest import SPECS
from objects import pod_spec
from test_kuscia_build import run_init

pytestmark = pytest.mark.tools

TABLE = yaml.safe_load(Path(__file__).with_name("kuscia_config_keys.yaml").read_text())
KUSCIA_EXAMPLES = sorted(example for example, path in SPECS.items()
                         if yaml.safe_load(path.read_text())["spec"].get("runtime") == "kuscia")
WORKLOADS = ("kuscia-master", "kuscia-lite")
INIT = "kuscia-config"
# the mounts run_init lays out; a new mount of the init container has to be laid out there first
LAID_OUT = ("/etc/kuscia", "/run/kuscia-conf")
SECRETS_DIR = "/run/secrets/kuscia/"
# test values for the Secret files, by key; a quote and a blank, as a real DSN may hold them
SECRET_VALUES = {"domainKeyData": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCnRlc3Q=",
                 "datastoreEndpoint": "mysql://kuscia:p'w d@tcp(mysql.db.svc.cluster.local:3306)/kuscia?parseTime=True",
                 "liteDeployToken": "zVHc3bWmgS7vCfXtDd8Qn2Lw"}
SERVICE_LINK = {"KUSCIA_LITE_SERVICE_HOST": "10.96.0.53"}

# yaml.v3's plain-scalar resolution, where the field type matters (gopkg.in/yaml.v3@v3.0.1:resolve.go)
NULLS = {"", "~", "null", "Null", "NULL"}
BOOL_WORDS = {"true", "True", "TRUE", "false", "False", "FALSE"}
BOOL_STRINGS = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF"}
DECIMAL = re.compile(r"[-+]?[0-9]+")
QUANTITY = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?")
TYPES = {"string", "quantity", "int", "bool", "list of strings", "mapping"}
SOURCE = re.compile(r"secretflow/kuscia@v1\.1\.0b0:[\w./-]+:L[0-9]+")


# --- the check ---------------------------------------------------------------------------------

def _is_null(node) -> bool:
    return isinstance(node, ScalarNode) and node.style is None and node.value in NULLS


def _type_problem(entry: dict, node) -> str | None:
    """None when yaml.v3 decodes `node` into the entry's Go type (and a quantity parses)."""
    kind = entry["type"]
    if _is_null(node):
        return None  # the field keeps its zero value
    if kind in ("string", "quantity"):
        if not isinstance(node, ScalarNode):
            return f"is a {_kind(node)}, Kuscia's field is a string"
        if kind == "quantity" and not QUANTITY.fullmatch(node.value):
            return f"{node.value!r} is not a Kubernetes quantity"
        return None
    if kind == "int":
        if isinstance(node, ScalarNode) and node.style is None and DECIMAL.fullmatch(node.value):
            return None
        return f"{_show(node)} is not a plain integer, Kuscia's field is an int"
    if kind == "bool":
        if isinstance(node, ScalarNode) and (node.value in BOOL_STRINGS or
                                             (node.style is None and node.value in BOOL_WORDS)):
            return None
        return f"{_show(node)} is not a bool"
    if kind == "list of strings":
        if isinstance(node, SequenceNode) and all(isinstance(item, ScalarNode) for item in node.value):
            return None
        return f"{_show(node)} is not a list of strings"
    if kind == "mapping":
        return None if isinstance(node, MappingNode) else f"{_show(node)} is not a mapping"
    raise AssertionError(f"unknown type {kind!r} in the table")


def _kind(node) -> str:
    return {MappingNode: "mapping", SequenceNode: "sequence"}.get(type(node), "scalar")


def _show(node) -> str:
    return repr(node.value) if isinstance(node, ScalarNode) else f"a {_kind(node)}"


def _text(node) -> str | None:
    return node.value if isinstance(node, ScalarNode) and not _is_null(node) else None


def _required(entry: dict, scalars: dict[str, str]) -> bool:
    required = entry.get("required", False)
    if isinstance(required, dict):
        return all(scalars.get(path) == value for path, value in required["when"].items())
    return bool(required)


def check(text: str) -> list[str]:
    """Everything in an assembled kuscia.yaml that Kuscia 1.1.0b0 would refuse, drop or miss."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # one document only, as Kuscia reads one
    except yaml.YAMLError as error:
        return [f"not one YAML document: {error}"]
    if not isinstance(root, MappingNode):
        return ["the file is not a mapping"]
    modes = TABLE["modes"]
    mode_nodes = [v for k, v in root.value if isinstance(k, ScalarNode) and k.value == "mode"]
    mode = (_text(mode_nodes[0]) or "").lower() if mode_nodes else ""  # Kuscia lower-cases it
    if mode not in modes:
        return [f"mode {mode!r}: the table knows {sorted(modes)}"]
    table = modes[mode]
    keys = table["keys"]
    problems: list[str] = []
    present: dict[str, object] = {}

    def walk(mapping: MappingNode, prefix: str) -> None:
        seen: dict[str, int] = {}
        for key, value in mapping.value:
            if not isinstance(key, ScalarNode):
                problems.append(f"{prefix or 'top level'}: a key that is not a scalar (line {key.start_mark.line + 1})")
                continue
            path, line = prefix + key.value, key.start_mark.line + 1
            if key.value in seen:  # yaml.v3 refuses it: "mapping key ... already defined"
                problems.append(f"{path}: defined twice (lines {seen[key.value]} and {line}); "
                                "Kuscia's decoder refuses the file")
                continue
            seen[key.value] = line
            entry = keys.get(path)
            if entry is None:
                problems.append(f"{path} (line {line}): not a key of Kuscia's {table['struct']} "
                                f"(tests/kuscia_config_keys.yaml); Kuscia would ignore it silently")
                continue
            present[path] = value
            problem = _type_problem(entry, value)
            if problem:
                problems.append(f"{path} (line {line}): {problem} ({entry['type']}, {entry['source']})")
            elif entry["type"] == "mapping" and isinstance(value, MappingNode):
                walk(value, path + ".")

    walk(root, "")
    scalars = {path: _text(node) for path, node in present.items() if _text(node) is not None}
    for path, entry in keys.items():
        value = scalars.get(path)
        if value is not None:
            compared = {"lower case": value.lower(), "upper case": value.upper()}.get(entry.get("compare"), value)
            if "values" in entry and compared not in entry["values"]:
                problems.append(f"{path}: {value!r} is not one of {entry['values']}")
            if value in entry.get("not", []):
                problems.append(f"{path}: {value!r} is refused by Kuscia")
        if _required(entry, scalars):
            node = present.get(path)
            empty = node is None or _is_null(node) or (isinstance(node, ScalarNode) and node.value == "") or (
                isinstance(node, MappingNode) and not node.value)
            if empty:
                problems.append(f"{path}: required in {mode} mode and missing or empty ({entry['why']})")
    return problems


# --- the pods' files -----------------------------------------------------------------------------

def kuscia_pods(objects: list[dict]) -> dict[str, list[dict]]:
    """namespace -> the objects of that namespace, for each namespace with a Kuscia Deployment."""
    out = {}
    for deployment in objects:
        if deployment["kind"] == "Deployment" and deployment["metadata"]["name"] in WORKLOADS:
            namespace = deployment["metadata"].get("namespace", "")
            out[namespace] = [o for o in objects if o["metadata"].get("namespace", "") == namespace]
    return out


def secret_keys(deployment: dict) -> list[str]:
    """The Secret keys mounted into the init container (each volume names its items)."""
    pod = pod_spec(deployment)
    mounted = {m["name"] for m in pod["initContainers"][0].get("volumeMounts", [])}
    keys = []
    for volume in pod["volumes"]:
        if "secret" in volume and volume["name"] in mounted:
            items = volume["secret"].get("items")
            assert items, f"Secret volume {volume['name']} names no items: which keys it holds is unknown"
            keys += [item["key"] for item in items]
    return keys


def assemble(tmp_path: Path, objects: list[dict], env: dict, values: dict[str, str] | None = None) -> str:
    """The kuscia.yaml the init container of the namespace's Kuscia Deployment writes."""
    (deployment,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] in WORKLOADS]
    init = pod_spec(deployment)["initContainers"][0]
    assert init["name"] == INIT, "run_init runs the first init container"
    unknown = [m["mountPath"] for m in init.get("volumeMounts", [])
               if m["mountPath"] not in LAID_OUT and not m["mountPath"].startswith(SECRETS_DIR)]
    assert not unknown, f"run_init does not lay out {unknown}: the script would not see them"
    if values is None:
        values = {key: SECRET_VALUES[key] for key in secret_keys(deployment)}
    result, out = run_init(tmp_path, objects, values, env)
    assert result.returncode == 0, result.stderr
    return out.read_text()


def assembled_files(built, example: str, tmp_path: Path, env: dict):
    """(build target, namespace, text) for every Kuscia Deployment of every build target of `example`."""
    for (name, target), objects in sorted(built.items()):
        if name != example:
            continue
        for namespace, group in sorted(kuscia_pods(objects).items()):
            directory = tmp_path / f"{target.replace('/', '-')}-{namespace}"
            yield target, namespace, assemble(directory, group, env)


# --- tests ---------------------------------------------------------------------------------------

def test_the_table_is_complete_and_cited():
    assert set(TABLE["modes"]) == {"master", "lite"}
    for mode, table in TABLE["modes"].items():
        assert SOURCE.fullmatch(table["struct_source"])
        keys = table["keys"]
        for path, entry in keys.items():
            assert entry["type"] in TYPES, (mode, path)
            assert SOURCE.fullmatch(entry["source"]), (mode, path)
            assert entry["written_by"] in ("ConfigMap", "init container", "none"), (mode, path)
            assert entry.get("compare") in (None, "lower case", "upper case"), (mode, path)
            assert "values" in entry or "values_source" not in entry, (mode, path)
            parent = path.rpartition(".")[0]
            assert not parent or keys.get(parent, {}).get("type") == "mapping", f"{mode} {path}: no parent mapping"
            required = entry.get("required", False)
            if required:
                assert entry.get("why"), (mode, path)
            if isinstance(required, dict):
                assert set(required["when"]) <= set(keys), (mode, path)
        assert keys["mode"]["values"] == [mode]


@pytest.mark.parametrize("env", [{}, SERVICE_LINK], ids=["no-service-link", "service-link"])
@pytest.mark.parametrize("example", KUSCIA_EXAMPLES)
def test_every_pods_kuscia_yaml_holds_only_keys_kuscia_reads(built, tmp_path, example, env):
    problems, modes = [], set()
    for target, namespace, text in assembled_files(built, example, tmp_path, env):
        modes.add(yaml.safe_load(text).get("mode"))
        problems += [f"{target} {namespace}: {p}" for p in check(text)]
    assert not problems, "\n".join(problems)
    assert modes == {"master", "lite"}, f"{example}: checked modes {modes}"


@pytest.fixture(scope="module")
def centralized(built) -> dict[str, list[dict]]:
    objects = built[("kuscia-centralized", "clusters/default")]
    return {group[0]["metadata"]["namespace"]: group for group in kuscia_pods(objects).values()}


def _master(pods):
    return next(g for ns, g in pods.items() if any(o["metadata"]["name"] == "kuscia-master" for o in g))


def _runk_lite(pods):
    return next(g for ns, g in pods.items() if any(o["metadata"]["name"] == "kuscia-lite" for o in g)
                and "\nruntime: runk" in _config_map(g)["data"]["kuscia.yaml"])


def _config_map(objects):
    (found,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("kuscia-config-")]
    return found


def _reordered(objects: list[dict]) -> list[dict]:
    """The runk lite's ConfigMap with its `runk` block moved before `capacity`."""
    objects = copy.deepcopy(objects)
    data = _config_map(objects)["data"]
    head, runk = data["kuscia.yaml"].split("runk:\n")
    head, capacity = head.split("capacity:\n")
    data["kuscia.yaml"] = f"{head}runk:\n{runk}capacity:\n{capacity}"
    return objects


# (id, domain, change to the ConfigMap objects or None, change to the assembled text, Secret keys or
# None for all, what the check must say)
PLANTED = [
    ("misspelt-top-level-key", "master", None, lambda t: t + "domainId: other\n", None,
     "domainId (line"),
    ("key-of-the-other-mode", "master", None, lambda t: t + "masterEndpoint: http://m:1080\n", None,
     "masterEndpoint (line"),
    ("misspelt-nested-key", "lite", None, lambda t: t.replace("runk:\n", "runk:\n  dnsServer: ['10.0.0.1']\n"), None,
     "runk.dnsServer (line"),
    ("scalar-for-a-list", "lite", None, lambda t: t.replace("dnsServers: ['10.96.0.53']", "dnsServers: 10.96.0.53"),
     None, "runk.dnsServers (line"),
    ("list-for-a-string", "master", None, lambda t: t.replace("logLevel: INFO", "logLevel: [INFO]"), None,
     "logLevel (line"),
    ("quoted-int", "lite", None, lambda t: t.replace("runk:\n", "runk:\n  logMaxFiles: '5'\n"), None,
     "runk.logMaxFiles (line"),
    ("not-a-quantity", "lite", None, lambda t: re.sub(r"(?m)^  pods: .*$", "  pods: plenty", t), None,
     "capacity.pods (line"),
    ("repeated-key", "lite", None, lambda t: t + "domainID: other\n", None, "domainID: defined twice"),
    ("unknown-protocol", "master", None, lambda t: re.sub(r"(?m)^protocol: .*$", "protocol: TLS1.3", t), None,
     "protocol: 'TLS1.3' is not one of"),
    ("secret-not-mounted", "lite", None, None, ["liteDeployToken"], "domainKeyData: required in lite mode"),
    ("runk-not-last-in-the-config-map", "lite", _reordered, None, None, "capacity.dnsServers (line"),
]


@pytest.mark.parametrize("case", PLANTED, ids=[c[0] for c in PLANTED])
def test_a_planted_mistake_is_caught(centralized, tmp_path, case):
    _, domain, change_objects, change_text, keys, expected = case
    objects = _master(centralized) if domain == "master" else _runk_lite(centralized)
    clean = assemble(tmp_path / "clean", objects, SERVICE_LINK)
    assert check(clean) == []
    if change_objects:
        objects = change_objects(objects)
    values = None if keys is None else {key: SECRET_VALUES[key] for key in keys}
    text = assemble(tmp_path / "planted", objects, SERVICE_LINK, values)
    if change_text:
        text = change_text(text)
    assert text != clean
    problems = check(text)
    assert any(expected in p for p in problems), problems


# what yaml.v3 and Kuscia take although it looks odd: the check must not flag it
ACCEPTED = [
    ("protocol-in-lower-case", lambda t: re.sub(r"(?m)^protocol: .*$", "protocol: notls", t)),
    ("mode-in-upper-case", lambda t: t.replace("mode: lite", "mode: LITE")),
    ("number-for-a-string", lambda t: re.sub(r"(?m)^  cpu: .*$", "  cpu: 2.5", t)),
    ("yaml-1.1-bool", lambda t: t.replace("runk:\n", "runk:\n  enableLogging: yes\n")),
    ("null-for-an-optional-key", lambda t: t.replace("runk:\n", "runk:\n  logDirectory:\n")),
]


@pytest.mark.parametrize("case", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_what_kuscia_accepts_is_not_flagged(centralized, tmp_path, case):
    _, change_text = case
    clean = assemble(tmp_path, _runk_lite(centralized), SERVICE_LINK)
    text = change_text(clean)
    assert text != clean
    assert check(text) == []
