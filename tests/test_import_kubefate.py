"""`kfplug import kubefate`: KubeFATE's own example cluster.yaml files (pinned in ../shared/upstream,
KubeFATE v1.11.2 and v2.0.0) become one spec that `validate` accepts and `render` renders; passwords
become Secret references and never appear; every key not carried is reported at its line; bad input
exits 1 and writes nothing."""

from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from conftest import REPO
from kfplug import api
from kfplug.cli import main

UPSTREAM = REPO.parent / "shared" / "upstream"
VERSIONS = ("1.11.2", "2.0.0")
ROUTER = {"1.11.2": "rollsite", "2.0.0": "osx"}
STANDARD = ("mysql", "{router}", "clustermanager", "nodemanager", "fateflow", "fateboard", "client")
PASSWORDS = ("Mysql-Pw-4711", "Board-Pw-0815", "sha1:0f1e2d3c4b5a", "Hive-Pw-2323", "Rabbit-Pw-4242", "Ext-Pw-9090")
SECRETS = f"""\
mysql:
  user: fate
  password: {PASSWORDS[0]}
fateboard:
  username: admin
  password: {PASSWORDS[1]}
client:
  notebook_hashed_password: "{PASSWORDS[2]}"
externalMysqlPassword: {PASSWORDS[5]}
"""


@pytest.fixture(scope="session")
def kubefate(tmp_path_factory) -> dict[str, Path]:
    """release -> KubeFATE's examples folder at the tag that deploys it."""
    if not UPSTREAM.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{UPSTREAM} is missing")
        pytest.skip(f"{UPSTREAM} is missing")
    root = tmp_path_factory.mktemp("kubefate")
    for version in VERSIONS:
        with tarfile.open(UPSTREAM / f"kubefate-v{version}.tar.gz") as tar:
            tar.extractall(root, filter="data")
    return {version: root / f"kubefate-v{version}" / "k8s-deploy" / "examples" for version in VERSIONS}


def cli(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def run_import(out: Path, *files: Path, options: tuple[str, ...] = ()) -> Result:
    return cli("import", "kubefate", *files, "-o", out, *options)


def pair(examples: Path) -> tuple[Path, Path]:
    return examples / "party-9999" / "cluster.yaml", examples / "party-10000" / "cluster.yaml"


def warnings(result: Result) -> dict[str, str]:
    """`<the file's folder>:<line>: <path>` -> message, for each warning on stderr."""
    found = re.findall(r"^(.+?):(\d+): warning: (\S+): (.*)$", result.stderr, re.MULTILINE)
    return {f"{Path(file).parent.name}:{line}: {path}": message for file, line, path, message in found}


def edited(source: Path, target: Path, replace: dict[str, str] | None = None, add: str = "") -> Path:
    """A copy of an upstream file with some text replaced and some added at the end."""
    text = source.read_text()
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.rstrip("\n") + "\n" + add)
    return target


@pytest.mark.parametrize("version", VERSIONS)
def test_two_parties(kubefate, version, tmp_path):
    out = tmp_path / "federation.yaml"
    result = run_import(out, *pair(kubefate[version]))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n"
    text = out.read_text()
    assert text.startswith("# Written by `kfplug import kubefate` from ")
    spec = yaml.safe_load(text)["spec"]
    assert spec["runtime"] == "fate" and spec["version"] == version
    assert spec["images"] == {"pullSecrets": ["myregistrykey"]}
    assert spec["clusters"] == [{"name": "fate-9999"}, {"name": "fate-10000"}]
    assert "exchange" not in spec
    standard = [name.format(router=ROUTER[version]) for name in STANDARD]
    for party, (port, peer) in zip(spec["parties"], ((30091, "192.168.9.1"), (30101, "192.168.10.1")), strict=True):
        assert party == {
            "id": party["id"], "cluster": f"fate-{party['id']}", "modules": standard,
            "expose": {"type": "NodePort", "nodePort": port},
            "endpoint": f"{peer}:{port}",  # from the other party's partyList
            "storage": {"none": True},  # persistence: false
            "ingress": {"className": "nginx",
                        "hosts": {"fateboard": f"party{party['id']}.fateboard.example.com",
                                  "client": f"party{party['id']}.notebook.example.com"}},
        }
    assert [party["id"] for party in spec["parties"]] == [9999, 10000]
    reported = warnings(result)
    for party in ("party-9999", "party-10000"):
        assert reported[f"{party}:49: python.httpNodePort"] == "not carried: only the router is exposed (expose)"
        assert reported[f"{party}:53: servingIp"] == "not carried: kfplug neither deploys nor connects FATE-Serving"
        assert reported[f"{party}:51: python.logLevel"] == "not carried: kfplug sets no log level"
    if version == "2.0.0":  # KubeFATE's v2.0.0 examples still name rollsite, which its chart v2.0.0 lacks
        assert reported["party-9999:17: modules[0]"].startswith("read as osx, the router of FATE 2.0.0")
    assert cli("validate", out).exit_code == 0
    assert api.render(out, tmp_path / "tree") is not None
    assert sorted(p.name for p in (tmp_path / "tree" / "overlays").iterdir()) == ["10000", "9999"]


@pytest.mark.parametrize("version", VERSIONS)
def test_exchange(kubefate, version, tmp_path):
    """The exchange's cluster.yaml gives the parties' addresses; its own comes from the parties'
    `exchange` section, which KubeFATE's examples leave out: then --endpoint gives it."""
    out = tmp_path / "federation.yaml"
    files = (*pair(kubefate[version]), kubefate[version] / "party-exchange" / "rollsite.yaml")
    result = run_import(out, *files)
    assert result.exit_code == 1 and not out.exists()
    assert re.search(r"rollsite\.yaml:5: error: partyId: no route entry of another file gives the exchange's "
                     r"address; give it with --endpoint exchange=HOST:30000$", result.stderr, re.MULTILINE)
    result = run_import(out, *files, options=("--endpoint", "exchange=192.168.0.1:30000"))
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load(out.read_text())["spec"]
    assert spec["exchange"] == {"id": 1, "cluster": "fate-exchange", "expose": {"type": "NodePort", "nodePort": 30000},
                                "endpoint": "192.168.0.1:30000"}
    assert [p["endpoint"] for p in spec["parties"]] == ["192.168.9.1:30091", "192.168.10.1:30101"]
    assert spec["clusters"][-1] == {"name": "fate-exchange"}
    reported = warnings(result)
    assert reported["party-9999:43: rollsite.partyList[0]"] == ("kfplug routes to party 10000 through the exchange "
                                                               "(a star); this entry gives its endpoint")
    if version == "2.0.0":  # the example exchange is KubeFATE's chart v1.11.2
        assert reported["party-exchange:4: chartVersion"] == "the exchange runs the parties' release, FATE 2.0.0"
    assert cli("validate", out).exit_code == 0
    api.render(out, tmp_path / "tree")
    assert (tmp_path / "tree" / "overlays" / "exchange" / "kustomization.yaml").is_file()


def test_star_from_the_files(kubefate, tmp_path):
    """Parties whose router names the exchange (`exchange: {ip, port}`) give it its endpoint."""
    examples = kubefate["1.11.2"]
    parties = [edited(path, tmp_path / path.parent.name / "cluster.yaml",
                      {"  partyList:": "  exchange:\n    ip: 192.168.0.1\n    port: 30000\n  partyList:"})
               for path in pair(examples)]
    out = tmp_path / "federation.yaml"
    result = run_import(out, *parties, examples / "party-exchange" / "rollsite.yaml")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["spec"]["exchange"]["endpoint"] == "192.168.0.1:30000"
    assert cli("validate", out).exit_code == 0


def test_party_routes_to_its_exchange(kubefate, tmp_path):
    """A party's router `exchange` section is the exchange's endpoint; without the exchange's own
    file the spec still has it (kfplug renders it), and the party needs an address for it."""
    party = edited(kubefate["2.0.0"] / "party-9999" / "cluster.yaml", tmp_path / "in" / "cluster.yaml",
                   {"rollsite": "osx", "  partyList:": "  exchange:\n    ip: 10.1.1.1\n    port: 30000\n  partyList:"})
    out = tmp_path / "federation.yaml"
    result = run_import(out, party, options=("--endpoint", "9999=192.168.9.1:30091"))
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load(out.read_text())["spec"]
    # dialled at a node port, the exchange is published there (else validate refuses the endpoint)
    assert spec["exchange"] == {"cluster": "exchange", "expose": {"type": "NodePort", "nodePort": 30000},
                                "endpoint": "10.1.1.1:30000"}
    assert spec["parties"][0]["endpoint"] == "192.168.9.1:30091"
    reported = warnings(result)
    assert "osx.exchange: the exchange is dialled at 10.1.1.1:30000, so its router is exposed as NodePort 30000" \
        in result.stderr
    assert reported["in:46: osx.partyList[0]"] == "not carried: no cluster.yaml of party 10000 was given"
    assert "osx.exchange: the exchange has no cluster.yaml here" in result.stderr
    assert cli("validate", out).exit_code == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_passwords_become_secret_references(kubefate, version, tmp_path):
    nine, ten = pair(kubefate[version])
    party = edited(nine, tmp_path / "in" / "cluster-9999.yaml",
                   {"  logLevel: INFO": f"  logLevel: INFO\n  hive:\n    password: {PASSWORDS[3]}"},
                   SECRETS + f"rabbitmq:\n  password: {PASSWORDS[4]}\n")
    out = tmp_path / "federation.yaml"
    result = run_import(out, party, ten)
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load(out.read_text())["spec"]
    assert spec["parties"][0]["secrets"] == {"mysql": {"secretName": "fate-9999-mysql"},
                                             "fateboard": {"secretName": "fate-9999-fateboard"},
                                             "client": {"secretName": "fate-9999-client"}}
    reported = warnings(result)
    secrets = {where.split(": ", 1)[1]: message for where, message in reported.items()
               if where.startswith("in:") and "Secret" in message}
    assert secrets == {
        "mysql.password": "not copied: the spec refers to Secret fate-9999-mysql; create it in namespace fate-9999 "
                          "with key password",
        "fateboard.username": "not copied: the spec refers to Secret fate-9999-fateboard; create it in namespace "
                              "fate-9999 with keys username and password",
        "client.notebook_hashed_password": "not copied: the spec refers to Secret fate-9999-client; create it in "
                                           "namespace fate-9999 with key notebook-hashed-password",
    }
    assert any(where.endswith("externalMysqlPassword") and message.startswith("not copied")
               for where, message in reported.items())
    assert any(where.endswith("python.hive") for where in reported)
    assert any(where.endswith(": rabbitmq") for where in reported)
    assert cli("validate", out).exit_code == 0
    tree = tmp_path / "tree"
    api.render(out, tree)
    rendered = "\n".join(p.read_text() for p in tree.rglob("*") if p.is_file())
    assert "fate-9999-mysql" in rendered  # the workloads read the user's Secret
    for secret in PASSWORDS:
        assert secret not in out.read_text() and secret not in result.stderr and secret not in result.stdout
        assert secret not in rendered


RICH = """\
name: fate-9999
namespace: fed-9999
chartName: fate
chartVersion: v1.11.2
partyId: 9999
registry: harbor.local/federatedai
pullPolicy: Always
imagePullSecrets:
- name: myregistrykey
persistence: true
istio:
  enabled: false
podSecurityPolicy:
  enabled: true
ingressClassName: traefik
modules: [rollsite, clustermanager, nodemanager, mysql, python, fateboard, client, spark]
computing: Eggroll
federation: Eggroll
storage: Eggroll
algorithm: NN
device: CPU
ingress:
  fateboard:
    annotations: {a: b}
    hosts:
    - name: board.example.com
    tls:
    - secretName: web-tls
      hosts: [board.example.com]
  client:
    hosts:
    - name: notebook.example.com
      path: /
    - name: nb2.example.com
rollsite:
  type: LoadBalancer
  nodePort: 30091
  loadBalancerIP: 10.0.0.9
  enableTLS: true
  nodeSelector: {fedai.hostname: node1}
  tolerations:
  - {key: dedicated, operator: Equal, value: fate, effect: NoSchedule}
  partyList:
  - {partyId: 10000, partyIp: 192.168.10.1, partyPort: 30101}
  resources:
    requests: {cpu: "1", memory: 1Gi}
nodemanager:
  replicas: 3
  sessionProcessorsPerNode: 4
  storageClass: fast
  size: 5Gi
  accessMode: ReadWriteOnce
python:
  replicas: 2
  storageClass: slow
  existingClaim: python-data
  size: bogus
  nodeSelector: {disk: 1}
mysql:
  ip: mysql
  port: 3306
  subPath: data
  size: 20Gi
  existingClaim: mysql-data
spark:
  master: {replicas: 1}
servingIp: 192.168.9.1
"""


def test_what_is_carried_and_what_is_reported(kubefate, tmp_path):
    """Every key is carried, the same as kfplug does anyway, or reported at its line with the reason;
    a value the spec refuses (a size, a label) is reported where it was written."""
    party = tmp_path / "in" / "cluster-9999.yaml"
    party.parent.mkdir()
    party.write_text(RICH)
    out = tmp_path / "federation.yaml"
    result = run_import(out, party, pair(kubefate["1.11.2"])[1])
    assert result.exit_code == 0, result.output
    nine = yaml.safe_load(out.read_text())["spec"]
    assert nine["images"] == {"registry": "harbor.local/federatedai", "pullPolicy": "Always",
                              "pullSecrets": ["myregistrykey"]}
    assert nine["parties"][0] == {
        "id": 9999, "namespace": "fed-9999", "cluster": "fate-9999",
        "modules": ["mysql", "rollsite", "clustermanager", "nodemanager", "fateflow", "fateboard", "client"],
        "replicas": {"nodemanager": 3, "fateflow": 2},
        "expose": {"type": "LoadBalancer", "nodePort": 30091, "loadBalancerIP": "10.0.0.9"},
        "endpoint": "192.168.9.1:30091",
        "placement": {"modules": {"rollsite": {
            "nodeSelector": {"fedai.hostname": "node1"},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "fate", "effect": "NoSchedule"}]}}},
        "storage": {"storageClass": "fast", "sizes": {"mysql": "20Gi", "nodemanager": "5Gi"},
                    "existingClaims": {"mysql": "mysql-data"}},
        "ingress": {"className": "traefik", "hosts": {"fateboard": "board.example.com",
                                                      "client": "notebook.example.com"},
                    "tls": {"secretName": "web-tls"}},
        "resources": {"rollsite": {"requests": {"cpu": "1", "memory": "1Gi"}}},
    }
    reported = {where: message for where, message in warnings(result).items() if where.startswith("in:")}
    assert reported == {
        "in:10: persistence": "KubeFATE's chart names the StorageClass of client after the module when none is "
                              "set; the spec uses StorageClass fast",
        "in:14: podSecurityPolicy": "not carried: kfplug renders no PodSecurityPolicy (Kubernetes 1.25 removed them)",
        "in:16: modules[7]": "not carried: kfplug's FATE runs on eggroll and has no 'spark' module",
        "in:20: algorithm": "not carried: KubeFATE adds a suffix to its image names for NN; kfplug runs the "
                            "release's standard images",
        "in:24: ingress.fateboard.annotations": "not carried: kfplug's Ingresses carry no annotations of their own",
        "in:28: ingress.fateboard.tls": "kfplug serves every web UI of the party (fateboard, client) with this TLS "
                                        "Secret",
        "in:34: ingress.client.hosts[1]": "not carried: kfplug publishes one host per web UI",
        "in:39: rollsite.enableTLS": "not carried: kfplug's routers talk plain gRPC; TLS between them is not "
                                     "supported yet",
        "in:49: nodemanager.sessionProcessorsPerNode": "not carried: kfplug keeps eggroll's default",
        "in:55: python.storageClass": "not carried: kfplug has one StorageClass per party (fast, from "
                                      "nodemanager.storageClass)",
        "in:56: python.existingClaim": "not carried: one claim cannot serve the 2 replicas of fateflow",
        "in:57: python.size": "not carried: 'bogus' is not a Kubernetes quantity (e.g. 10Gi, 500Mi)",
        "in:58: python.nodeSelector": "not carried: label disk: 1 is not a valid label value (a string; quote "
                                      "numbers)",
        "in:62: mysql.subPath": "not carried: kfplug mounts each claim whole",
        "in:66: spark": "not carried: kfplug's FATE runs on eggroll and has no spark module",
        "in:67: servingIp": "not carried: kfplug neither deploys nor connects FATE-Serving",
    }
    assert cli("validate", out).exit_code == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_every_upstream_cluster_yaml(kubefate, version, tmp_path):
    """Each of KubeFATE's own party files imports alone into a spec `validate` accepts, or is refused
    with the reason: FATE on Spark, FATE-Serving."""
    files = sorted(kubefate[version].parent.rglob("cluster*.yaml"))
    assert len(files) >= 12
    for path in files:
        out = tmp_path / f"{path.parent.name}-{path.name}"
        result = run_import(out, path)
        text = path.read_text()
        if "chartName: fate-serving" in text:
            assert result.exit_code == 1 and "chartName: 'fate-serving': kfplug imports" in result.stderr
        elif re.search(r"^computing: Spark", text, re.MULTILINE):
            assert result.exit_code == 1 and "error: computing: 'Spark" in result.stderr
        else:
            assert result.exit_code == 0, f"{path}: {result.output}"
            assert cli("validate", out).exit_code == 0, path
    assert "(KubeFATE's chart v2.0.0 has no rollsite module)" in result.stderr or version == "1.11.2"


def test_registry_of_each_chart(kubefate, tmp_path):
    """Chart v2.0.0 pulls <registry>federatedai/<image>, v1.11.x <registry>/<image>: one kfplug prefix."""
    out = tmp_path / "federation.yaml"
    nine, ten = pair(kubefate["2.0.0"])
    files = [edited(path, tmp_path / path.parent.name / "cluster.yaml", {'registry: ""': 'registry: "harbor.local/"'})
             for path in (nine, ten)]
    result = run_import(out, *files)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["spec"]["images"]["registry"] == "harbor.local/federatedai"
    assert "KubeFATE pulled harbor.local/mysql" in result.stderr


def test_yaml_1_1_values(kubefate, tmp_path):
    """KubeFATE reads YAML 1.1; kfplug's strict reader refuses its guesses where a value is carried,
    and does not care where it is not (a password is never read)."""
    nine, ten = pair(kubefate["1.11.2"])
    guessed = edited(nine, tmp_path / "in" / "cluster.yaml",
                     add="mysql:\n  password: yes\nserving:\n  useRegistry: on\n")
    out = tmp_path / "federation.yaml"
    assert run_import(out, guessed, ten).exit_code == 0
    selector = edited(nine, tmp_path / "selector" / "cluster.yaml", add="mysql:\n  nodeSelector: {ssd: on}\n")
    result = run_import(tmp_path / "other.yaml", selector, ten)
    assert result.exit_code == 1
    assert re.search(r"cluster\.yaml:56: error: mysql\.nodeSelector\.ssd: ambiguous value 'on'", result.stderr)
    guessed.write_text(guessed.read_text().replace("persistence: false", "persistence: no"))
    result = run_import(tmp_path / "other.yaml", guessed, ten)
    assert result.exit_code == 1 and not (tmp_path / "other.yaml").exists()
    assert re.search(r"cluster\.yaml:10: error: persistence: ambiguous value 'no': YAML 1.1 reads it as a boolean",
                     result.stderr)


BAD = {
    "not a cluster.yaml": (lambda d, t: [REPO / "examples" / "two-party" / "federation.yaml"],
                           r"federation\.yaml:\d+: error: not a KubeFATE cluster\.yaml: it has no chartName"),
    "missing file": (lambda d, t: [t / "absent.yaml", pair(d)[1]],
                     r"absent\.yaml: error: cannot read: No such file or directory"),
    "duplicated party id": (lambda d, t: [pair(d)[0], edited(pair(d)[1], t / "dup" / "cluster.yaml",
                                                             {"partyId: 10000": "partyId: 9999"})],
                            r"dup/cluster\.yaml:5: error: partyId: party 9999 is also in .*party-9999/cluster\.yaml:5"),
    "spark party": (lambda d, t: [edited(pair(d)[0], t / "spark" / "cluster.yaml",
                                         {"computing: Eggroll": "computing: Spark"}), pair(d)[1]],
                    r"spark/cluster\.yaml:25: error: computing: 'Spark': kfplug's FATE runs on eggroll"),
    "unknown release": (lambda d, t: [edited(pair(d)[0], t / "old" / "cluster.yaml",
                                             {"chartVersion: v1.11.2": "chartVersion: v1.10.0"}), pair(d)[1]],
                        r"old/cluster\.yaml:4: error: chartVersion: 'v1\.10\.0': kfplug imports KubeFATE's charts"),
    "conflicting addresses": (lambda d, t: [*pair(d), edited(d / "party-exchange" / "rollsite.yaml",
                                                             t / "ex" / "rollsite.yaml",
                                                             {"192.168.9.1": "10.9.9.9"})],
                              r"ex/rollsite\.yaml:26: error: rollsite\.partyList\[1\]: party 9999 is at "
                              r"10\.9\.9\.9:30091 here and at 192\.168\.9\.1:30091 in .*party-10000/cluster\.yaml:43"),
    "only an exchange": (lambda d, t: [d / "party-exchange" / "rollsite.yaml"],
                         r"rollsite\.yaml:1: error: no party: give the cluster\.yaml of at least one FATE party"),
    "an exchange without a router": (lambda d, t: [d / "party-exchange" / "trafficServer.yaml", *pair(d)],
                                      r"trafficServer\.yaml:16: error: modules: the exchange runs no rollsite"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_writes_nothing(kubefate, case, tmp_path):
    files, expected = BAD[case]
    out = tmp_path / "federation.yaml"
    result = run_import(out, *files(kubefate["1.11.2"], tmp_path), options=("--endpoint", "exchange=1.2.3.4:30000")
                        if "exchange" in case or "addresses" in case else ())
    assert result.exit_code == 1, result.output
    assert re.search(expected, result.stderr), result.stderr
    assert re.search(r"^\d+ errors?$", result.stderr, re.MULTILINE)
    assert not out.exists() and not list(tmp_path.glob(".federation.yaml.*"))


def test_output_and_options(kubefate, tmp_path):
    nine, ten = pair(kubefate["1.11.2"])
    out = tmp_path / "federation.yaml"
    assert run_import(out, nine, ten).exit_code == 0
    first = out.read_text()
    refused = run_import(out, nine, ten)
    assert refused.exit_code == 2 and "it exists (--force replaces it)" in refused.stderr
    assert run_import(out, nine, ten, options=("--force",)).exit_code == 0
    assert out.read_text() == first  # deterministic
    assert run_import(nine, nine, ten, options=("--force",)).exit_code == 2  # never over an input
    named = run_import(tmp_path / "named.yaml", nine, ten, options=("--name", "bank-consortium"))
    assert yaml.safe_load((tmp_path / "named.yaml").read_text())["metadata"]["name"] == "bank-consortium"
    assert named.exit_code == 0
    assert run_import(tmp_path / "x.yaml", nine, ten, options=("--endpoint", "9999")).exit_code == 2
    unknown = run_import(tmp_path / "x.yaml", nine, ten, options=("--endpoint", "7=1.2.3.4:30000"))
    assert unknown.exit_code == 1 and "--endpoint: error: 7=1.2.3.4:30000: '7' is neither" in unknown.stderr
    chosen = run_import(tmp_path / "x.yaml", nine, ten, options=("--endpoint", "9999=fate.example.com:443"))
    assert yaml.safe_load((tmp_path / "x.yaml").read_text())["spec"]["parties"][0]["endpoint"] == \
        "fate.example.com:443"
    assert chosen.exit_code == 0
