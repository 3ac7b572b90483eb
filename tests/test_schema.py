"""`kfplug schema`: the JSON Schema editors use (docs/federation.schema.json) is generated from the model,
accepts every example, rejects the common mistakes kfplug rejects, and its value patterns agree with
kfplug's checks."""

from __future__ import annotations

import copy
import difflib
import json
import os
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft7Validator, Draft202012Validator

from conftest import REPO, SPECS
from kfplug import api
from kfplug.cli import main
from kfplug.diagnostics import SpecError, format_path
from kfplug.spec.load import parse_object
from kfplug.spec.structure import Structurer
from kfplug.spec.walk import value_types
from kfplug.yamlread import load_document

SCHEMA_FILE = REPO / "docs/federation.schema.json"
SCHEMA = json.loads(api.schema())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def document(example: str) -> dict:
    """An example's data as kfplug's reader gives it (YAML 1.2 scalars, as an editor reads them)."""
    data, _, issues = load_document(SPECS[example].read_bytes(), str(SPECS[example]))
    assert not issues
    return data


def schema_errors(data: object) -> list[str]:
    """Every error, with those inside an `anyOf` (`spec.routes[0]: 'to' is a required property`)."""
    found, errors = [], list(VALIDATOR.iter_errors(data))
    while errors:
        error = errors.pop(0)
        found.append(f"{format_path(tuple(error.absolute_path)) or '<root>'}: {error.message}")
        errors += error.context or []
    return found


def test_committed_schema_is_what_kfplug_schema_prints(update_golden):
    """docs/federation.schema.json is `kfplug schema` (refresh: pytest tests/test_schema.py --update-golden)."""
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    if update_golden:
        SCHEMA_FILE.write_text(result.output, encoding="utf-8")
    committed = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.is_file() else ""
    diff = "".join(difflib.unified_diff(committed.splitlines(True), result.output.splitlines(True),
                                        "docs/federation.schema.json", "kfplug schema"))
    assert not diff, f"docs/federation.schema.json is stale: run pytest tests/test_schema.py --update-golden " \
                     f"and review the diff\n{diff}"


def test_output_is_stable_across_processes():
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    printed = subprocess.run([sys.executable, "-m", "kfplug", "schema"], check=True, capture_output=True,
                             text=True, env=env).stdout
    assert printed == api.schema()
    assert printed == json.dumps(json.loads(printed), indent=2, sort_keys=True) + "\n"


def test_schema_is_draft_2020_12_and_closed():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == "https://kfplug.dev/schemas/federation-v1alpha1.json"
    objects = [SCHEMA, *(d for d in SCHEMA["$defs"].values() if "properties" in d)]
    assert len(objects) > 30
    for form in objects:
        assert form["type"] == "object" and form["additionalProperties"] is False
        assert set(form["required"]) <= set(form["properties"])
    named = set(value_types().values())
    for name, form in SCHEMA["$defs"].items():
        if name in named:
            assert form.get("description"), f"value type {name} says nothing of its check"


# Keywords that mean the same in draft-07, which yaml-language-server implements ($defs is only where the
# definitions live: a draft-07 evaluator follows `#/$defs/...` as a JSON pointer).
DRAFT7_ALIKE = {"$schema", "$id", "$comment", "$ref", "$defs", "title", "description", "type", "properties",
                "required", "additionalProperties", "propertyNames", "items", "enum", "anyOf", "pattern", "format",
                "minimum", "maximum", "minLength", "maxLength", "minItems", "const", "not", "allOf", "if", "then"}
DRAFT7 = Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)


def test_schema_means_the_same_to_draft_07():
    def keywords(form: dict, where: str):
        assert "$ref" not in form or set(form) == {"$ref"}, f"{where}: $ref beside other keywords"
        assert not isinstance(form.get("items", {}), list), f"{where}: items as a list"
        yield from form
        for key in ("properties", "$defs"):
            for name, inner in form.get(key, {}).items():
                yield from keywords(inner, f"{where}.{name}")
        for key in ("items", "additionalProperties", "propertyNames"):
            if isinstance(form.get(key), dict):
                yield from keywords(form[key], f"{where}.{key}")
        for key in ("anyOf", "allOf"):
            for inner in form.get(key, []):
                yield from keywords(inner, f"{where}.{key}")
        for key in ("if", "then", "not"):
            if isinstance(form.get(key), dict):
                yield from keywords(form[key], f"{where}.{key}")

    assert set(keywords(SCHEMA, "")) <= DRAFT7_ALIKE


@pytest.mark.parametrize("example", SPECS, ids=list(SPECS))
def test_every_example_is_valid_and_names_the_schema(example):
    assert not schema_errors(document(example))
    assert DRAFT7.is_valid(document(example))
    first = SPECS[example].read_text(encoding="utf-8").splitlines()[0]
    relative = os.path.relpath(SCHEMA_FILE, SPECS[example].parent)
    assert first == f"# yaml-language-server: $schema={relative}", f"{SPECS[example]}: first line {first!r}"


def _set(path: str, value: object):
    """A change that sets (or, for value DELETE, removes) one key: "spec.parties.0.namespace"."""
    def change(data: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parents:
            data = data[part]
        if value is DELETE:
            del data[last]
        else:
            data[last] = value
    return change


DELETE = object()

# (id, example, change, where the schema reports it): each a mistake kfplug validate also rejects.
BAD = [
    ("unknown-field", "two-party", _set("spec.parties.0.namepsace", "fate-9999"), "spec.parties[0]"),
    ("bad-enum", "multi-cluster", _set("spec.images.pullPolicy", "Sometimes"), "spec.images.pullPolicy"),
    ("bad-api-version", "two-party", _set("apiVersion", "kfplug.dev/v1"), "apiVersion"),
    ("wrong-type-bool", "two-party", _set("spec.parties.0.security", {"networkPolicy": "no"}),
     "spec.parties[0].security.networkPolicy"),
    ("wrong-type-list", "two-party", _set("spec.parties", {"id": 9999}), "spec.parties"),
    ("party-id-boolean", "two-party", _set("spec.parties.0.id", True), "spec.parties[0].id"),
    ("node-port-out-of-range", "multi-cluster", _set("spec.parties.0.expose", {"nodePort": 80}),
     "spec.parties[0].expose.nodePort"),
    ("port-out-of-range", "kuscia-centralized", _set("spec.parties.0.dataSources.0.ports", [70000]),
     "spec.parties[0].dataSources[0].ports[0]"),
    ("bad-dns-label", "two-party", _set("spec.parties.0.namespace", "Fate_9999"), "spec.parties[0].namespace"),
    ("bad-dns-subdomain", "exchange-star", _set("spec.defaults.secrets.mysql.secretName", "fate..mysql"),
     "spec.defaults.secrets.mysql.secretName"),
    ("routes-wrong-shape", "kuscia-centralized", _set("spec.routes", {"from": "alice", "to": "bob"}),
     "spec.routes"),
    ("routes-wrong-word", "kuscia-centralized", _set("spec.routes", "none"), "spec.routes"),
    ("missing-required", "two-party", _set("metadata.name", DELETE), "metadata"),
    ("missing-required-route-end", "kuscia-multi-cluster", _set("spec.routes.0.to", DELETE), "spec.routes[0]"),
    ("bad-quantity", "multi-cluster", _set("spec.parties.0.storage.sizes.mysql", "20GB"),
     "spec.parties[0].storage.sizes.mysql"),
    ("zero-quantity", "kuscia-centralized", _set("spec.defaults.capacity.pods", 0), "spec.defaults.capacity.pods"),
    ("bad-ipv4", "kuscia-centralized", _set("spec.clusters.0.dns", "10.96.0.300"), "spec.clusters[0].dns"),
    ("bad-label-value", "multi-cluster", _set("spec.nodes.0.labels.disk", "fast ssd"), "spec.nodes[0].labels.disk"),
    ("identity-in-defaults", "exchange-star", _set("spec.defaults.namespace", "fate"), "spec.defaults"),
    ("weight-out-of-range", "multi-cluster",
     _set("spec.parties.2.placement.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution.0.weight",
          0),
     "spec.parties[2].placement.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"),
]


@pytest.mark.parametrize(("example", "change", "where"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_common_mistakes_fail_the_schema_as_they_fail_kfplug(example, change, where):
    data = copy.deepcopy(document(example))
    change(data)
    errors = schema_errors(data)
    assert any(error.startswith(f"{where}: ") for error in errors), errors
    assert not DRAFT7.is_valid(data)
    with pytest.raises(SpecError) as raised:
        parse_object(data, "federation.yaml")
    # the same place, or the mapping that holds it (kfplug reports a bad label value at the labels)
    assert any(issue.path.startswith(where) or issue.path == where.rpartition(".")[0]
               for issue in raised.value.issues), raised.value.issues


# Values kfplug's checks accept (the first list) and refuse (the second): the schema's form of each value
# type agrees. (Lists, not mappings: 1 and True are the same key.)
SAMPLES = {
    "DNSLabel": (["a", "fate-9999", "a" * 63], ["a" * 64, "-a", "a-", "Fate", "a.b", "", 7]),
    "DNSSubdomain": (["a.b", "fate-mysql", f"{'a' * 63}.{'b' * 63}"],
                     ["a..b", ".a", "A.b", ".".join(["a" * 63] * 4)]),
    "HostName": (["board.example.org", "*.example.org", "999.1.1.1", "01.2.3.4"],
                 ["10.0.0.1", "::1", "*.*.example.org", "Board.example.org"]),
    "LabelKey": (["disk", "kubernetes.io/hostname", "Ab_c.d", "/x", "x" * 63],
                 ["x" * 64, "a/b/c", "-x", "Example.com/x"]),
    "Labels": ([{}, {"a": "b"}, {"a": ""}, {"example.org/a": "B_1"}], [{"a": "b c"}, {"-a": "b"}, {"a": 1}]),
    "Quantity": (["10Gi", "500Mi", "0.5", ".5", "4", 4, "+1", "1e3", "1E", "1."],
                 [0, "0", "0Gi", "0e3", -1, "-1", "10GB", True, 1.5]),
    "ImagePrefix": (["harbor.local/federatedai", "harbor.local:5000/x/"], ["Harbor", "/x", "x//y"]),
    "AbsolutePath": (["/", "/exports/fate", "/exports/", "/a/..b"], ["/a/../b", "/a/..", "relative"]),
    "Port": ([1, 65535], [0, 65536, True, "80"]),
    "NodePort": ([30000, 32767], [29999, 32768]),
    "Weight": ([1, 100], [0, 101]),
    "PositiveInt": ([1], [0, -1]),
    "IPAddress": (["10.0.0.1", "fd00::1"], ["10.0.0.256", "010.0.0.1", "host"]),
    "IPv4Address": (["10.96.0.10"], ["fd00::1", "1.2.3"]),
    "PartyId": ([9999, 0, "alice", 2**31 - 1], [-1, "", True, 2**31, 12345678901234567890]),
    "EndpointValue": (["10.0.0.2:30091", "fl.example.net:443", "[fd00::1]:9370", "osx.org-b.test:1"],
                      ["10.0.0.2", "fl.example.net:70000", "fl.example.net:0", "Fl.example.net:443", ":443", 9370]),
    "Duration": (["10m", "1h30m", "45s", "1.5h", "100ms"], ["10 minutes", "10", "m", "1d", ""]),
    "AgeRecipient": (["age1" + "q" * 58, "age1" + "x7" * 29], ["notakey", "age1" + "q" * 57, "age1" + "b" * 58,
                                                             "AGE1" + "q" * 58]),
}


def test_samples_cover_every_value_type_with_a_form():
    from kfplug.schema import VALUE_FORMS

    assert set(SAMPLES) == {value_types()[tp] for tp in VALUE_FORMS}


@pytest.mark.parametrize("name", SAMPLES)
def test_value_forms_agree_with_the_checks(name):
    tp = {type_name: tp for tp, type_name in value_types().items()}[name]
    form = {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{name}"}
    validators = [Draft202012Validator(form, format_checker=Draft202012Validator.FORMAT_CHECKER),
                  Draft7Validator(form, format_checker=Draft7Validator.FORMAT_CHECKER)]
    good, bad = SAMPLES[name]
    disagree = []
    for value, accepted in [(value, True) for value in good] + [(value, False) for value in bad]:
        problems: list[str] = []
        Structurer(lambda path, message, problems=problems: problems.append(message)).convert(tp, value, ())
        if (not problems) != accepted:
            disagree.append(f"{value!r}: listed as {'good' if accepted else 'bad'}, kfplug says {problems or 'ok'}")
        for validator in validators:
            if validator.is_valid(value) != accepted:
                disagree.append(f"{value!r}: kfplug {'accepts' if accepted else 'refuses'} it, "
                                f"the schema ({type(validator).__name__}) does not")
    assert not disagree


# The bad-input cases the schema accepts, because what is wrong is what a JSON Schema cannot say
# (kfplug.schema.NOT_EXPRESSED): every other case must fail the schema as it fails kfplug.
SCHEMA_CANNOT_SAY = {
    # which ids and fields a runtime takes, and its catalog (runtime, release, modules, Secrets)
    "02-id-64-digits", "02-id-bidi-control", "02-id-leading-dash", "02-id-not-a-number", "float-id",
    "quoted-leading-zero-id", "kuscia-domain-id-dot", "kuscia-domain-id-reserved", "kuscia-domain-id-uppercase",
    "kuscia-master-id-reserved", "kuscia-exchange-on-kuscia", "kuscia-fate-field-on-lite", "kuscia-field-on-fate",
    "master-on-fate", "routes-on-fate", "unknown-version", "unknown-module", "unknown-secret", "missing-dependency",
    "missing-router", "wrong-router-for-version", "replicas-of-the-other-router", "single-replica-module",
    "size-for-stateless-module",
    "placement-unknown-module", "kuscia-master-placement-unknown-module", "kuscia-resources-unknown-workload",
    "kuscia-master-missing", "kuscia-datastore-missing", "kuscia-lite-key-missing", "kuscia-master-key-missing",
    "kuscia-runk-partial-capacity", "kuscia-runk-without-capacity", "kuscia-derived-namespace-too-long",
    "kuscia-lite-endpoint-ipv6", "kuscia-master-endpoint-ipv6", "kuscia-cluster-dns-missing",
    "kuscia-cluster-dns-missing-on-one", "kuscia-too-many-routes",
    # YAML as the strict reader reads it (YAML 1.1 guesses, duplicate keys, escapes, digits)
    "10-yes-as-boolean", "ambiguous-boolean", "leading-zero-id", "duplicate-key", "22-lone-surrogate-escape",
    "huge-integer",
    # uniqueness: ids, namespaces, node ports, hosts, keys, routes
    "duplicate-id", "duplicate-host", "kuscia-duplicate-lite", "kuscia-master-id-is-a-lite",
    "namespace-collision", "kuscia-namespace-taken-by-master", "node-port-duplicate", "kuscia-shared-key",
    "kuscia-route-duplicate", "kuscia-route-names-collide", "kuscia-route-takes-the-masters-route-name",
    "kuscia-routes-all-collide",
    # references between fields: clusters, lites, inventory nodes
    "unknown-cluster", "kuscia-route-unknown-lite", "kuscia-route-to-master", "kuscia-route-to-itself",
    "unknown-inventory-node", "nodes-without-inventory", "pinned-node-misses-selector", "more-replicas-than-nodes",
    "selector-matches-no-node", "selector-and-affinity-match-no-node", "affinity-matches-no-inventory-node",
    "inventory-of-one-cluster", "nodes-and-own-node-affinity",
    # rules between fields, and what spec.defaults merges in
    "cluster-required", "node-port-without-type", "claim-for-many-replicas", "two-storage-kinds",
    "ingress-without-domain",
    "unreachable-peer", "kuscia-lite-unreachable", "kuscia-master-unreachable", "endpoint-not-exposed",
    "limits-below-requests", "gitops-generated-secrets-without-sops", "sops-no-recipients", "sops-without-gitops",
    "affinity-empty-term", "affinity-field-selector-not-name", "affinity-gt-not-an-integer",
    "kuscia-data-source-bad-cidr",
}


def test_schema_and_kfplug_agree_on_every_bad_input_case():
    """Every bad-input case fails the schema too, unless the table above says why the schema cannot see it;
    and the table lists no case the schema does refuse (it would hide a regression)."""
    import sys

    sys.set_int_max_str_digits(0)  # the hostile cases hold integers of thousands of digits
    validator = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    disagree, cases = [], 0
    for path in sorted((REPO / "tests" / "bad_input").glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # not YAML at all: nothing for a schema to read
        cases += 1
        accepted = validator.is_valid(data)
        if accepted != (path.stem in SCHEMA_CANNOT_SAY):
            disagree.append(f"{path.stem}: the schema {'accepts' if accepted else 'refuses'} it")
    assert cases > 100
    assert not disagree
