"""Bad Kuscia input: exit 1, `file:line: error: path: message`, nothing written (as tests/test_bad_input.py)."""

from __future__ import annotations

import textwrap

import pytest

from test_bad_input import output, test_bad_input_is_reported_with_its_path_and_writes_nothing as check  # noqa: F401

HEAD = """\
apiVersion: kfplug.dev/v1alpha1
kind: Federation
metadata:
  name: demo
spec:
  runtime: kuscia
  version: 1.1.0b0
"""
MASTER = "master: {keySecret: {secretName: m-key}, datastore: {secretName: m-db}}\n"
CAPACITY = "defaults: {capacity: {cpu: '4', memory: 8Gi, pods: 500, storage: 100Gi}}\n"
ALICE = "  - {id: alice, keySecret: {secretName: a-key}}\n"
BOB = "  - {id: bob, keySecret: {secretName: b-key}}\n"


DNS = "clusters: [{name: default, dns: 10.96.0.10}]\n"  # last, so that line numbers above stay put


def spec(body: str, master: str = MASTER, capacity: str = CAPACITY, dns: bool = True) -> str:
    return HEAD + textwrap.indent(master + capacity + textwrap.dedent(body) + (DNS if dns else ""), "  ")


# (case id, spec text, expected field path, expected message fragment, expected line or None)
CASES = [
    ("domain-id-uppercase", spec("parties:\n  - {id: Alice, keySecret: {secretName: a-key}}\n"),
     "spec.parties[0].id", "'Alice' is not a Kuscia domain id (an RFC 1123 label", 11),
    ("domain-id-dot", spec("parties:\n  - {id: a.b, keySecret: {secretName: a-key}}\n"),
     "spec.parties[0].id", "is not a Kuscia domain id", 11),
    ("domain-id-reserved", spec("parties:\n  - {id: cross-domain, keySecret: {secretName: a-key}}\n"),
     "spec.parties[0].id", "domain id 'cross-domain' is reserved by Kuscia", 11),
    ("master-id-reserved", spec("parties:\n" + ALICE,
                                master="master: {id: master, keySecret: {secretName: m-key}, "
                                       "datastore: {secretName: m-db}}\n"),
     "spec.master.id", "domain id 'master' is reserved by Kuscia", 8),
    ("master-id-is-a-lite", spec("parties:\n  - {id: kuscia-system, keySecret: {secretName: a-key}}\n"),
     "spec.master.id", "domain id 'kuscia-system' is also spec.parties[0].id", 8),
    ("duplicate-lite", spec("parties:\n" + ALICE + "  - {id: alice, keySecret: {secretName: b-key}}\n"),
     "spec.parties[1].id", "duplicate party id alice", 12),
    ("master-missing", spec("parties:\n" + ALICE, master=""),
     "spec.master", "required: the kuscia runtime runs one master domain", None),
    ("exchange-on-kuscia", spec("exchange: {id: x}\nparties:\n" + ALICE),
     "spec.exchange", "only the fate runtime has an exchange", 10),
    ("fate-field-on-lite", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, modules: [osx]}\n"),
     "spec.parties[0].modules", "a fate field", 11),
    ("bad-protocol", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, protocol: tls}\n"),
     "spec.parties[0].protocol", "'tls' is not one of NOTLS, TLS, MTLS (did you mean 'TLS'?)", 11),
    ("bad-lite-runtime", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, runtime: runc}\n"),
     "spec.parties[0].runtime", "'runc' is not one of runk, runp", 11),
    ("routes-not-all", spec("parties:\n" + ALICE + "routes: every\n"),
     "spec.routes", "'every' is not one of all", 12),
    ("route-unknown-lite", spec("parties:\n" + ALICE + BOB + "routes:\n  - {from: alice, to: bobb}\n"),
     "spec.routes[0].to", "unknown lite 'bobb' (did you mean 'bob'?)", 14),
    ("route-to-master", spec("parties:\n" + ALICE + BOB + "routes:\n  - {from: alice, to: kuscia-system}\n"),
     "spec.routes[0].to", "is the master; routes between lites and the master are created by the master", 14),
    ("route-to-itself", spec("parties:\n" + ALICE + BOB + "routes:\n  - {from: alice, to: alice}\n"),
     "spec.routes[0]", "a route from 'alice' to itself", 14),
    ("route-duplicate", spec("parties:\n" + ALICE + BOB + "routes:\n  - {from: alice, to: bob}\n"
                             "  - {from: alice, to: bob}\n"),
     "spec.routes[1]", "duplicate route alice -> bob (first at spec.routes[0])", 15),
    ("route-missing-to", spec("parties:\n" + ALICE + BOB + "routes:\n  - {from: alice}\n"),
     "spec.routes[0].to", "required", None),
    ("runk-without-capacity", spec("parties:\n" + ALICE, capacity=""),
     "spec.parties[0].capacity", "runtime runk needs capacity cpu, memory, pods, storage", 10),
    ("runk-partial-capacity", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, "
                                   "capacity: {cpu: '4', memory: 8Gi}}\n", capacity=""),
     "spec.parties[0].capacity", "runtime runk needs capacity pods, storage", 10),
    ("capacity-not-quantity", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, "
                                   "capacity: {memory: 8GB}}\n"),
     "spec.parties[0].capacity.memory", "'8GB' is not a Kubernetes quantity", 11),
    ("lite-key-missing", spec("parties:\n  - {id: alice}\n"),
     "spec.parties[0].keySecret", "required: the Secret holding this domain's RSA key", 11),
    ("master-key-missing", spec("parties:\n" + ALICE, master="master: {datastore: {secretName: m-db}}\n"),
     "spec.master.keySecret", "required: the Secret holding the master's RSA key", 8),
    ("shared-key", spec("parties:\n" + ALICE + "  - {id: bob, keySecret: {secretName: a-key}, namespace: lite-alice}\n"),
     "spec.parties[1].keySecret.secretName", "Secret 'a-key' in namespace lite-alice is already the key of "
                                             "spec.parties[0]", 12),
    ("datastore-missing", spec("parties:\n" + ALICE, master="master: {keySecret: {secretName: m-key}}\n"),
     "spec.master.datastore", "required: a Secret with the database DSN", 8),
    ("inline-datastore", spec("parties:\n" + ALICE, master="master: {keySecret: {secretName: m-key}, "
                              "datastore: {secretName: m-db, dsn: 'mysql://u:hunter2@tcp(db)/k'}}\n"),
     "spec.master.datastore.dsn", "unknown field 'dsn'", 8),
    ("master-unreachable", spec("clusters: [{name: a, dns: 10.96.0.10}, {name: b, dns: 10.96.0.10}]\nparties:\n"
                                "  - {id: alice, cluster: b, keySecret: {secretName: a-key}}\n",
                                master="master: {cluster: a, keySecret: {secretName: m-key}, "
                                       "datastore: {secretName: m-db}}\n", dns=False),
     "spec.master.endpoint", "required: the master (cluster a) is reached from other clusters by lite alice "
                             "(cluster b)", 8),
    ("lite-unreachable", spec("clusters: [{name: a, dns: 10.96.0.10}, {name: b, dns: 10.96.0.10}]\nparties:\n"
                              "  - {id: alice, cluster: a, keySecret: {secretName: a-key}}\n"
                              "  - {id: bob, cluster: b, keySecret: {secretName: b-key}, endpoint: 'bob.example.org:31080'}\n"
                              "routes: all\n",
                              master="master: {cluster: a, endpoint: 'hq.example.org:31080', "
                                     "expose: {type: NodePort, nodePort: 31080}, "
                                     "keySecret: {secretName: m-key}, datastore: {secretName: m-db}}\n", dns=False),
     "spec.parties[0].endpoint", "required: lite alice (cluster a) is routed to from other clusters by lite bob "
                                 "(cluster b)", 12),
    ("too-many-routes", spec("parties:\n" + "".join(f"  - {{id: l{i}, keySecret: {{secretName: k{i}}}}}\n"
                                                 for i in range(36)) + "routes: all\n"),
     "spec.routes", "1260 routes do not fit the bootstrap ConfigMap (at most 1200)", 47),
    ("resources-unknown-workload", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, "
                                        "resources: {kuscia-lit: {requests: {cpu: '1'}}}}\n"),
     "spec.parties[0].resources.kuscia-lit", "'kuscia-lit' is not a workload of this domain (it runs kuscia-lite) "
                                             "(did you mean 'kuscia-lite'?)", 11),
    ("master-placement-unknown-module", spec("parties:\n" + ALICE, master="master: {keySecret: {secretName: m-key}, "
                                             "datastore: {secretName: m-db}, placement: {modules: {kuscia-lite: {}}}}\n"),
     "spec.master.placement.modules.kuscia-lite", "'kuscia-lite' is not a module of this party", 8),
    ("placement-bad-toleration", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, "
                                      "placement: {tolerations: [{key: gpu, operator: Exists, value: x}]}}\n"),
     "spec.parties[0].placement.tolerations[0].value", "must be empty when operator is Exists", 11),
    ("derived-namespace-too-long", spec("parties:\n  - {id: " + "a" * 60 + ", keySecret: {secretName: a-key}}\n"),
     "spec.parties[0].id", "would be longer than 63 characters; give a namespace", 11),
    # issue: Kuscia's CoreDNS forwards to the cluster DNS, which a uid-1000 Kuscia cannot discover
    ("cluster-dns-missing", spec("parties:\n" + ALICE, dns=False),
     "spec.clusters[0].dns", "required for kuscia: the address of the DNS server pods use in cluster default", None),
    ("cluster-dns-missing-on-one", spec("clusters: [{name: a, dns: 10.96.0.10}, {name: b}]\nparties:\n"
                                        "  - {id: alice, cluster: b, keySecret: {secretName: a-key}}\n",
                                        master="master: {cluster: a, endpoint: 'hq.example.org:31080', "
                                               "keySecret: {secretName: m-key}, datastore: {secretName: m-db}}\n",
                                        dns=False),
     "spec.clusters[1].dns", "required for kuscia: the address of the DNS server pods use in cluster b", 10),
    ("cluster-dns-not-ipv4", spec("clusters: [{name: default, dns: 'fd00::10'}]\nparties:\n" + ALICE, dns=False),
     "spec.clusters[0].dns", "'fd00::10' is not an IPv4 address", 10),
    ("lite-endpoint-ipv6", spec("clusters: [{name: a, dns: 10.96.0.10}, {name: b, dns: 10.96.0.10}]\nparties:\n"
                                "  - {id: alice, cluster: a, keySecret: {secretName: a-key}}\n"
                                "  - {id: bob, cluster: b, keySecret: {secretName: b-key}, endpoint: '[fd00::2]:31080'}\n"
                                "routes: all\n",
                                master="master: {cluster: a, endpoint: 'hq.example.org:31080', "
                                       "keySecret: {secretName: m-key}, datastore: {secretName: m-db}}\n", dns=False),
     "spec.parties[1].endpoint", "'[fd00::2]:31080' is an IPv6 address; Kuscia reaches peers by IPv4 or a DNS name",
     13),
    ("master-endpoint-ipv6", spec("parties:\n" + ALICE, master="master: {endpoint: '[fd00::1]:31080', "
                                  "keySecret: {secretName: m-key}, datastore: {secretName: m-db}}\n"),
     "spec.master.endpoint", "is an IPv6 address", 8),
    ("route-names-collide", spec("parties:\n  - {id: a, keySecret: {secretName: k1}}\n"
                                 "  - {id: a-b, keySecret: {secretName: k2}}\n"
                                 "  - {id: b-c, keySecret: {secretName: k3}}\n  - {id: c, keySecret: {secretName: k4}}\n"
                                 "routes:\n  - {from: a, to: b-c}\n  - {from: a-b, to: c}\n"),
     "spec.routes[1]", "route a-b -> c and route a -> b-c would both be named 'a-b-c'", 17),
    ("route-takes-the-masters-route-name", spec("parties:\n  - {id: x, keySecret: {secretName: k1}}\n"
                                                "  - {id: x-kuscia, keySecret: {secretName: k2}}\n"
                                                "  - {id: system, keySecret: {secretName: k3}}\n"
                                                "routes:\n  - {from: x-kuscia, to: system}\n"),
     "spec.routes[0]", "route x-kuscia -> system and the master's own route x -> kuscia-system would both be named "
                       "'x-kuscia-system'", 15),
    ("routes-all-collide", spec("parties:\n  - {id: a, keySecret: {secretName: k1}}\n"
                                "  - {id: a-b, keySecret: {secretName: k2}}\n"
                                "  - {id: b-c, keySecret: {secretName: k3}}\n  - {id: c, keySecret: {secretName: k4}}\n"
                                "routes: all\n"),
     "spec.routes", "would both be named 'a-b-c'", 15),
    ("data-source-bad-cidr", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, "
                                  "dataSources: [{cidr: 10.1.2.3/24, ports: [3306]}]}\n"),
     "spec.parties[0].dataSources[0].cidr", "'10.1.2.3/24' is not a CIDR block", 11),
    ("data-source-bad-port", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, "
                                  "dataSources: [{ports: [0]}]}\n"),
     "spec.parties[0].dataSources[0].ports[0]", "0 is not a port (1-65535)", 11),
    ("data-source-without-ports", spec("parties:\n  - {id: alice, keySecret: {secretName: a-key}, "
                                       "dataSources: [{cidr: 10.1.0.0/16}]}\n"),
     "spec.parties[0].dataSources[0].ports", "required", 11),
    ("namespace-taken-by-master", spec("parties:\n  - {id: alice, namespace: kuscia-master, "
                                       "keySecret: {secretName: a-key}}\n"),
     "spec.parties[0].namespace", "namespace 'kuscia-master' already used in cluster default by spec.master", None),
]


@pytest.mark.parametrize("text, path, message, line", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_kuscia_input_is_reported_with_its_path_and_writes_nothing(tmp_path, output, text, path, message,
                                                                         line):
    check(tmp_path, output, text, path, message, line)


def test_inline_dsn_is_never_echoed(tmp_path):
    from click.testing import CliRunner

    from kfplug.cli import main

    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(spec("parties:\n" + ALICE, master="master: {keySecret: {secretName: m-key}, "
                              "datastore: {secretName: m-db, datastoreEndpoint: 'mysql://u:hunter2@tcp(db)/k'}}\n"))
    result = CliRunner().invoke(main, ["validate", str(spec_file)])
    assert result.exit_code == 1
    assert "hunter2" not in result.output


def test_a_valid_kuscia_spec_passes(tmp_path):
    from click.testing import CliRunner

    from kfplug.cli import main

    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(spec("parties:\n" + ALICE + BOB + "routes: all\n"))
    result = CliRunner().invoke(main, ["validate", str(spec_file)])
    assert result.exit_code == 0, result.output
