"""Bad input: exit 1, every problem as `file:line: error: path: message`, nothing written."""

from __future__ import annotations

import hashlib
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kfplug.cli import main

HEAD = """\
apiVersion: kfplug.dev/v1alpha1
kind: Federation
metadata:
  name: demo
spec:
  runtime: fate
  version: "2.0.0"
"""


def spec(body: str, head: str = HEAD) -> str:
    return head + textwrap.indent(textwrap.dedent(body), "  ")


TWO_PARTIES = "parties:\n  - id: 9999\n  - id: 10000\n"

# (case id, spec text, expected field path, expected message fragment, expected line or None)
CASES = [
    ("duplicate-id", spec("parties:\n  - id: 9999\n  - id: 9999\n"),
     "spec.parties[1].id", "duplicate party id 9999 (first at spec.parties[0].id)", 10),
    ("leading-zero-id", spec("parties:\n  - id: 010\n"),
     "spec.parties[0].id", "YAML 1.1 reads it as 8", 9),
    ("float-id", spec("parties:\n  - id: 9999.0\n"),
     "spec.parties[0].id", "is not a party id", 9),
    ("quoted-leading-zero-id", spec("parties:\n  - id: '0099'\n"),
     "spec.parties[0].id", "without leading zeros", 9),
    ("namespace-collision", spec("parties:\n  - id: 9999\n    namespace: fate-10000\n  - id: 10000\n"),
     "spec.parties[1].namespace", "namespace 'fate-10000' already used in cluster default", None),
    ("unknown-module", spec("parties:\n  - id: 9999\n    modules: [osx, fatefow]\n"),
     "spec.parties[0].modules[1]", "unknown module 'fatefow'", 10),
    ("module-did-you-mean", spec("parties:\n  - id: 9999\n    modules: [osx, fatefow]\n"),
     "spec.parties[0].modules[1]", "(did you mean 'fateflow'?)", 10),
    ("missing-dependency", spec("parties:\n  - id: 9999\n    modules: [osx, fateboard]\n"),
     "spec.parties[0].modules", "fateboard requires fateflow", 10),
    ("missing-router", spec("parties:\n  - id: 9999\n    modules: [mysql]\n"),
     "spec.parties[0].modules", "every party needs the router osx", 10),
    ("wrong-router-for-version", spec("parties:\n  - id: 9999\n    modules: [rollsite]\n"),
     "spec.parties[0].modules[0]", "rollsite is not part of fate 2.0.0", 10),
    ("unknown-field", spec("parties:\n  - id: 9999\n    namepsace: fate-x\n"),
     "spec.parties[0].namepsace", "unknown field 'namepsace' (did you mean 'namespace'?)", 10),
    ("missing-parties", spec("images: {pullPolicy: Always}\n"),
     "spec.parties", "required", None),
    ("missing-party-id", spec("parties:\n  - namespace: fate-x\n"),
     "spec.parties[0].id", "required", None),
    ("wrong-api-version", spec(TWO_PARTIES, HEAD.replace("kfplug.dev/v1alpha1", "kfplug.io/v2")),
     "apiVersion", "'kfplug.io/v2' is not one of kfplug.dev/v1alpha1", 1),
    ("unknown-version", spec(TWO_PARTIES, HEAD.replace('"2.0.0"', '"2.0.1"')),
     "spec.version", "fate '2.0.1' is not in the catalog (known: 2.0.0, 1.11.2)", 7),
    ("replicas-not-integer", spec("parties:\n  - id: 9999\n    replicas: {nodemanager: two}\n"),
     "spec.parties[0].replicas.nodemanager", "expected an integer", 10),
    ("replicas-zero", spec("parties:\n  - id: 9999\n    replicas: {nodemanager: 0}\n"),
     "spec.parties[0].replicas.nodemanager", "expected an integer >= 1", 10),
    ("single-replica-module", spec("parties:\n  - id: 9999\n    replicas: {mysql: 2}\n"),
     "spec.parties[0].replicas.mysql", "mysql runs as a single replica", 10),
    ("size-not-quantity", spec("parties:\n  - id: 9999\n    storage: {storageClass: ssd, sizes: {mysql: 10GB}}\n"),
     "spec.parties[0].storage.sizes.mysql", "'10GB' is not a Kubernetes quantity", 10),
    ("node-port-out-of-range", spec("parties:\n  - id: 9999\n    expose: {type: NodePort, nodePort: 80}\n"),
     "spec.parties[0].expose.nodePort", "not a NodePort in the default range 30000-32767", 10),
    ("node-port-duplicate", spec("parties:\n  - id: 9999\n    expose: {type: NodePort, nodePort: 30091}\n"
                                 "  - id: 10000\n    expose: {type: NodePort, nodePort: 30091}\n"),
     "spec.parties[1].expose.nodePort", "30091 already used in cluster default by spec.parties[0]", 12),
    ("node-port-without-type", spec("parties:\n  - id: 9999\n    expose: {nodePort: 30091}\n"),
     "spec.parties[0].expose.nodePort", "needs type NodePort or LoadBalancer", 10),
    ("unknown-cluster", spec("clusters: [{name: org-a}]\nparties:\n  - id: 9999\n    cluster: org-b\n"),
     "spec.parties[0].cluster", "unknown cluster 'org-b'", 11),
    ("cluster-required", spec("clusters: [{name: org-a}, {name: org-b}]\nparties:\n  - id: 9999\n"),
     "spec.parties[0].cluster", "required when spec.clusters lists several clusters", None),
    ("unreachable-peer", spec("clusters: [{name: org-a}, {name: org-b}]\nparties:\n"
                              "  - {id: 9999, cluster: org-a}\n  - {id: 10000, cluster: org-b, endpoint: '10.0.0.2:30101'}\n"),
     "spec.parties[0].endpoint", "party 9999 (cluster org-a) is reached from other clusters by party 10000 (cluster org-b)", 10),
    ("bad-endpoint", spec("parties:\n  - id: 9999\n    endpoint: 10.0.0.1\n"),
     "spec.parties[0].endpoint", "'10.0.0.1' is not host:port", 10),
    ("unknown-secret", spec("parties:\n  - id: 9999\n    secrets: {mysq: {secretName: x}}\n"),
     "spec.parties[0].secrets.mysq", "unknown secret 'mysq'", 10),
    ("inline-password", spec("parties:\n  - id: 9999\n    secrets: {mysql: {password: hunter2}}\n"),
     "spec.parties[0].secrets.mysql.password", "unknown field 'password'", 10),
    ("ambiguous-boolean", spec("parties:\n  - id: 9999\n    security: {networkPolicy: no}\n"),
     "spec.parties[0].security.networkPolicy", "YAML 1.1 reads it as a boolean", 10),
    ("defaults-identity", spec("defaults: {namespace: shared}\n" + TWO_PARTIES),
     "spec.defaults.namespace", "'namespace' is not allowed here", 8),
    ("routes-on-fate", spec("routes: all\n" + TWO_PARTIES),
     "spec.routes", "only the kuscia runtime takes routes", 8),
    ("master-on-fate", spec("master: {id: hq}\n" + TWO_PARTIES),
     "spec.master", "only the kuscia runtime has a master", 8),
    ("kuscia-field-on-fate", spec("parties:\n  - id: 9999\n    protocol: TLS\n"),
     "spec.parties[0].protocol", "a kuscia field; the fate runtime does not take it", 10),
    ("bad-label-value", spec("parties:\n  - id: 9999\n    placement: {nodeSelector: {fedai.hostname: 1}}\n"),
     "spec.parties[0].placement.nodeSelector", "not a valid label value", 10),
    # placement, storage, ingress (the per-party patches)
    ("toleration-bad-effect", spec("parties:\n  - id: 9999\n"
                                   "    placement: {tolerations: [{key: gpu, operator: Exists, effect: NoSchedul}]}\n"),
     "spec.parties[0].placement.tolerations[0].effect", "NoSchedule", 10),
    ("toleration-unknown-field", spec("parties:\n  - id: 9999\n"
                                      "    placement: {tolerations: [{key: gpu, operater: Exists}]}\n"),
     "spec.parties[0].placement.tolerations[0].operater", "did you mean 'operator'", 10),
    ("toleration-exists-with-value", spec("parties:\n  - id: 9999\n    placement:\n      modules:\n"
                                          "        fateflow: {tolerations: [{key: gpu, operator: Exists, value: a}]}\n"),
     "spec.parties[0].placement.modules.fateflow.tolerations[0].value", "must be empty when operator is Exists", 12),
    ("affinity-unknown-part", spec("parties:\n  - id: 9999\n    placement: {affinity: {nodeAfinity: {}}}\n"),
     "spec.parties[0].placement.affinity.nodeAfinity", "did you mean 'nodeAffinity'", 10),
    ("affinity-part-not-a-mapping", spec("parties:\n  - id: 9999\n    placement: {affinity: {nodeAffinity: 5}}\n"),
     "spec.parties[0].placement.affinity.nodeAffinity", "", 10),
    ("affinity-misspelt-field", spec("parties:\n  - id: 9999\n"
                                     "    placement: {affinity: {nodeAffinity: {requiredDuringScheduling: {}}}}\n"),
     "spec.parties[0].placement.affinity.nodeAffinity.requiredDuringScheduling", "did you mean 'requiredDuringSchedulingIgnoredDuringExecution'", 10),
    ("affinity-bad-operator", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        nodeAffinity:\n"
                                   "          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n"
                                   "              - matchExpressions: [{key: zone, operator: in, values: [a]}]\n"),
     "spec.parties[0].placement.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator", "did you mean 'In'", 15),
    ("affinity-exists-with-values", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        nodeAffinity:\n"
                                         "          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n"
                                         "              - matchExpressions: [{key: gpu, operator: Exists, values: [x]}]\n"),
     "spec.parties[0].placement.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values", "must be empty when operator is Exists", 15),
    ("affinity-in-without-values", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        nodeAffinity:\n"
                                        "          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n"
                                        "              - matchExpressions: [{key: zone, operator: In}]\n"),
     "spec.parties[0].placement.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values", "operator In needs at least one value", 15),
    ("affinity-gt-not-an-integer", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        nodeAffinity:\n"
                                        "          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n"
                                        "              - matchExpressions: [{key: cpus, operator: Gt, values: [many]}]\n"),
     "spec.parties[0].placement.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values", "exactly one integer value", 15),
    ("affinity-field-selector-not-name", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        nodeAffinity:\n"
                                              "          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n"
                                              "              - matchFields: [{key: spec.unschedulable, operator: In, values: ['false']}]\n"),
     "spec.parties[0].placement.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key", "supports only metadata.name", 15),
    ("affinity-empty-term", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        nodeAffinity:\n"
                                 "          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms: [{}]\n"),
     "spec.parties[0].placement.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]", "an empty term matches no node", None),
    ("affinity-weight-out-of-range", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        podAntiAffinity:\n"
                                          "          preferredDuringSchedulingIgnoredDuringExecution:\n"
                                          "            - weight: 101\n"
                                          "              podAffinityTerm: {topologyKey: kubernetes.io/hostname}\n"),
     "spec.parties[0].placement.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
     "a weight from 1 to 100", 14),
    ("affinity-missing-topology-key", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        podAffinity:\n"
                                           "          requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: x}}}]\n"),
     "spec.parties[0].placement.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey", "required", None),
    ("affinity-bad-label-key", spec("parties:\n  - id: 9999\n    placement:\n      affinity:\n        podAffinity:\n"
                                    "          requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: 'kubernetes.io/host name'}]\n"),
     "spec.parties[0].placement.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey", "not a valid label key", 13),
    ("nodes-and-own-node-affinity", spec("nodes: [{name: n0}, {name: n1}]\nparties:\n  - id: 9999\n    placement:\n"
                                         "      modules:\n        nodemanager:\n          nodes: [n0, n1]\n"
                                         "          affinity: {podAntiAffinity: {}}\n"),
     "spec.parties[0].placement.modules.nodemanager.nodes", "give either nodes or affinity", 14),
    ("selector-matches-no-node", spec("nodes: [{name: n0, labels: {disk: ssd}}]\nparties:\n  - id: 9999\n"
                                      "    placement: {nodeSelector: {gpu: 'true'}}\n"),
     "spec.parties[0].placement.nodeSelector", "no node in spec.nodes has the labels gpu=true", 11),
    ("unknown-inventory-node", spec("nodes: [{name: n0}, {name: n1}]\nparties:\n  - id: 9999\n"
                                    "    placement: {modules: {nodemanager: {nodes: [n0, n2]}}}\n"),
     "spec.parties[0].placement.modules.nodemanager.nodes[1]", "unknown node 'n2'", 11),
    ("nodes-without-inventory", spec("parties:\n  - id: 9999\n"
                                     "    placement: {modules: {nodemanager: {nodes: [n0, n1]}}}\n"),
     "spec.parties[0].placement.modules.nodemanager.nodes", "needs the node inventory spec.nodes", 10),
    ("more-replicas-than-nodes", spec("nodes: [{name: n0}]\nparties:\n  - id: 9999\n"
                                      "    placement: {modules: {nodemanager: {nodes: [n0]}}}\n"),
     "spec.parties[0].placement.modules.nodemanager.nodes", "2 replicas cannot spread one per node over 1", 11),
    ("placement-unknown-module", spec("parties:\n  - id: 9999\n    placement: {modules: {mysq: {}}}\n"),
     "spec.parties[0].placement.modules.mysq", "'mysq' is not a module of this party (did you mean 'mysql'?)", 10),
    ("two-storage-kinds", spec("parties:\n  - id: 9999\n    storage: {storageClass: ssd, none: true}\n"),
     "spec.parties[0].storage", "choose one of storageClass, nfs and none, not storageClass and none", 10),
    ("size-for-stateless-module", spec("parties:\n  - id: 9999\n    storage: {sizes: {osx: 1Gi}}\n"),
     "spec.parties[0].storage.sizes.osx", "'osx' is not a stateful module of this party", 10),
    ("claim-for-many-replicas", spec("parties:\n  - id: 9999\n    storage: {existingClaims: {nodemanager: c}}\n"),
     "spec.parties[0].storage.existingClaims.nodemanager", "one claim cannot serve the 2 replicas", 10),
    ("nfs-relative-path", spec("parties:\n  - id: 9999\n    storage: {nfs: {server: 10.0.0.5, path: exports}}\n"),
     "spec.parties[0].storage.nfs.path", "'exports' is not an absolute path", 10),
    ("invalid-host", spec("parties:\n  - id: 9999\n    ingress: {hosts: {fateboard: 'Not A Host!'}}\n"),
     "spec.parties[0].ingress.hosts.fateboard", "is not a valid host name", 10),
    ("ip-as-host", spec("parties:\n  - id: 9999\n    ingress: {domain: x.org, hosts: {client: 10.0.0.1}}\n"),
     "spec.parties[0].ingress.hosts.client", "'10.0.0.1' is an IP address", 10),
    ("duplicate-host", spec("parties:\n  - id: 9999\n    ingress: {domain: x.org, hosts: {client: a.x.org}}\n"
                            "  - id: 10000\n    ingress: {domain: x.org, hosts: {fateboard: a.x.org}}\n"),
     "spec.parties[1].ingress.hosts.fateboard", "host a.x.org is already used by spec.parties[0].ingress.hosts.client",
     12),
    ("ingress-without-domain", spec("parties:\n  - id: 9999\n    ingress: {className: nginx}\n"),
     "spec.parties[0].ingress", "needs domain, or hosts.fateboard", 10),
    ("load-balancer-ip-on-node-port", spec("parties:\n  - id: 9999\n"
                                           "    expose: {type: NodePort, loadBalancerIP: 10.0.0.9}\n"),
     "spec.parties[0].expose.loadBalancerIP", "needs type LoadBalancer", 10),
    # YAML-level hazards: the reader refuses them before any model is built
    ("duplicate-key", spec("parties:\n  - id: 9999\n    id: 10000\n"),
     "spec.parties[0].id", "duplicate key 'id' (first at line 9)", 10),
    ("tab-indent", HEAD + "  parties:\n\t- id: 9999\n", "", "tab character is not allowed", 9),
    ("alias", HEAD + "  parties: &p\n    - id: 9999\n  clusters: *p\n", "", "anchors are not allowed", 8),
    ("two-documents", HEAD + "  parties: [{id: 9999}]\n---\nkind: Federation\n", "", "exactly one document", 9),
    ("top-level-list", "- id: 9999\n", "", "expected a mapping, got a list", 1),
    ("timestamp", spec("parties:\n  - id: 9999\n    namespace: 2024-01-01\n"),
     "spec.parties[0].namespace", "reads as a YAML timestamp", 10),
    ("python-tag", HEAD + "  parties: !!python/object/apply:os.system [id]\n", "spec.parties", "unsupported tag", 8),
]


@pytest.fixture
def output(tmp_path) -> Path:
    """An existing kfplug output whose bytes must survive a failed render."""
    out = tmp_path / "out"
    (out / "overlays").mkdir(parents=True)
    (out / ".kfplug-output").write_text("# generated by kfplug; do not edit\n")
    (out / "overlays" / "keep.txt").write_text("untouched\n")
    return out


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("text, path, message, line", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_reported_with_its_path_and_writes_nothing(tmp_path, output, text, path, message, line):
    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(text)
    before = tree_digest(tmp_path)

    result = CliRunner().invoke(main, ["render", str(spec_file), "-o", str(output)])

    assert result.exit_code == 1, result.output
    pattern = rf"^{re.escape(str(spec_file))}:(\d+): error: {re.escape(path + ': ' if path else '')}.*" \
              + re.escape(message)
    matches = [re.search(pattern, row) for row in result.stderr.splitlines()]
    found = [m for m in matches if m]
    assert found, f"no line matching {pattern!r} in:\n{result.stderr}"
    if line is not None:
        assert int(found[0].group(1)) == line, result.stderr
    assert tree_digest(tmp_path) == before
    assert not list(tmp_path.glob(".kfplug-*"))


def test_every_problem_is_reported_at_once(tmp_path):
    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(spec("parites: []\nparties:\n  - id: 010\n    namepsace: x\n  - id: 9999\n"
                              "    storage: {sizes: {mysql: lots}}\n"))
    result = CliRunner().invoke(main, ["validate", str(spec_file)])
    assert result.exit_code == 1
    paths = re.findall(r": error: (\S+):", result.stderr)
    assert paths == ["spec.parites", "spec.parties[0].id", "spec.parties[0].namepsace",
                     "spec.parties[1].storage.sizes.mysql"]
    assert result.stderr.rstrip().endswith("4 errors")


def test_inline_secret_value_is_never_echoed(tmp_path):
    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(spec("parties:\n  - id: 9999\n    secrets: {mysql: {password: s3cr3t-value}}\n"))
    result = CliRunner().invoke(main, ["validate", str(spec_file)])
    assert result.exit_code == 1
    assert "s3cr3t-value" not in result.output


def test_non_utf8_input_is_reported_with_its_offset(tmp_path):
    spec_file = tmp_path / "federation.yaml"
    spec_file.write_bytes(HEAD.encode() + b"  parties: [{id: \xff}]\n")
    result = CliRunner().invoke(main, ["validate", str(spec_file)])
    assert result.exit_code == 1
    assert f"{spec_file}: error: not valid UTF-8 at byte {len(HEAD) + 17}" in result.stderr


def test_missing_spec_file_is_an_input_error(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "cannot read: No such file or directory" in result.stderr

