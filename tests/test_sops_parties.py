"""Secrets kept in Git are readable only by their own party: each overlay's SOPS files are encrypted for its
member's `sops.age` plus `spec.gitops.sops.age`, one `.sops.yaml` rule per overlay, and `secrets init`
re-encrypts a file whose recipients no longer match its rule. Checked with the real sops and age keys made
by the real age-keygen; the spec is examples/gitops-flux with its placeholder keys replaced."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import SPECS, AgeKey, require_tool, tool_binary
from kfplug import api
from kfplug.cli import main
from kfplug.diagnostics import SpecError

pytestmark = pytest.mark.tools

EXAMPLE = SPECS["gitops-flux"]
ORG_A, ORG_B, EVERYONE = ("age12tvu0m8ulyvsnjr3q96k9jyqfwjerej5kxzlswz8n33skrmh9ueqs7awec",
                          "age1gmewvp2x28zdyvtaf6z33hnf73z0n8f9kxr0rs6jdavrlw5l3vtqh074cy",
                          "age1mm99en4xv9rhzveczen9xuy8sh009py3kyutm2su0e7rtf3ktdgq88xy2l")  # the example's


def new_key(directory: Path, name: str) -> AgeKey:
    sops = require_tool(tool_binary("sops"), "sops")
    keygen = require_tool(tool_binary("age-keygen"), "age-keygen")
    key_file = directory / f"{name}.txt"
    subprocess.run([keygen, "-o", str(key_file)], check=True, capture_output=True)
    recipient = next(line.split(": ", 1)[1] for line in key_file.read_text().splitlines()
                     if line.startswith("# public key: "))
    return AgeKey(sops, key_file, recipient)


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, AgeKey]:
    """org-a's key, org-b's, the key every party's files add, and two more for the edits below."""
    directory = tmp_path_factory.mktemp("age")
    return {name: new_key(directory, name) for name in ("a", "b", "everyone", "a2", "b2")}


def reads(key: AgeKey, path: Path) -> bool:
    result = subprocess.run([key.sops, "--decrypt", str(path)], capture_output=True, text=True, env=key.env(),
                            timeout=60)
    return result.returncode == 0


def secret_files(root: Path, overlay: str = "*") -> list[Path]:
    return sorted(root.glob(f"overlays/{overlay}/secrets/*.sops.yaml"))


def write_spec(path: Path, a: list[str], b: list[str], everyone: list[str]) -> Path:
    """The example with party 9999's recipients `a`, 10000's `b` and spec.gitops.sops.age `everyone`."""
    text = EXAMPLE.read_text()
    for placeholder, keys in ((ORG_A, a), (ORG_B, b), (EVERYONE, everyone)):
        text = text.replace(f"[{placeholder}]", "[" + ", ".join(keys) + "]")
    path.write_text(text)
    return path


def init(root: Path, monkeypatch, *holders: AgeKey) -> list[Path]:
    """`kfplug secrets init` by an operator holding the private keys of `holders`."""
    identities = root.parent / "identities.txt"
    identities.write_text("".join(key.key_file.read_text() for key in holders))
    monkeypatch.setenv("KFPLUG_SOPS", require_tool(tool_binary("sops"), "sops"))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(identities))
    return api.init_secrets(root)


@pytest.fixture
def tree(tmp_path, keys, monkeypatch) -> Path:
    """The example rendered with real keys (9999: org-a's, 10000: org-b's, both: everyone's), initialised."""
    spec = write_spec(tmp_path / "federation.yaml", [keys["a"].recipient], [keys["b"].recipient],
                      [keys["everyone"].recipient])
    root = tmp_path / "tree"
    api.render(spec, root)
    init(root, monkeypatch)
    return root


def test_each_party_reads_its_own_secrets_and_not_the_others(tree, keys):
    mine, theirs = secret_files(tree, "9999"), secret_files(tree, "10000")
    assert len(mine) == len(theirs) == 3
    assert all(reads(keys["a"], p) for p in mine) and not any(reads(keys["a"], p) for p in theirs)
    assert all(reads(keys["b"], p) for p in theirs) and not any(reads(keys["b"], p) for p in mine)
    assert all(reads(keys["everyone"], p) for p in mine + theirs)
    assert not any(reads(keys["a2"], p) for p in mine + theirs)


def test_each_file_names_exactly_its_partys_recipients(tree, keys):
    for overlay, own in (("9999", "a"), ("10000", "b")):
        for path in secret_files(tree, overlay):
            metadata = yaml.safe_load(path.read_text())["sops"]
            assert {entry["recipient"] for entry in metadata["age"]} == {keys[own].recipient,
                                                                         keys["everyone"].recipient}


def test_the_sops_config_has_one_rule_per_overlay_with_its_recipients(tmp_path, keys):
    spec = write_spec(tmp_path / "federation.yaml", [keys["a"].recipient, keys["everyone"].recipient],
                      [keys["b"].recipient], [keys["everyone"].recipient])
    root = tmp_path / "tree"
    api.render(spec, root)
    rules = yaml.safe_load((root / ".sops.yaml").read_text())["creation_rules"]
    assert [(r["path_regex"], r["age"], r["encrypted_regex"]) for r in rules] == [
        (r"^overlays/9999/secrets/[^/]+\.sops\.yaml$", f"{keys['a'].recipient},{keys['everyone'].recipient}",
         "^(data|stringData)$"),  # the party's own first, each once
        (r"^overlays/10000/secrets/[^/]+\.sops\.yaml$", f"{keys['b'].recipient},{keys['everyone'].recipient}",
         "^(data|stringData)$")]
    nine = re.compile(rules[0]["path_regex"])
    assert nine.search("overlays/9999/secrets/mysql.sops.yaml")
    for other in ("overlays/99999/secrets/mysql.sops.yaml", "x/overlays/9999/secrets/mysql.sops.yaml",
                  "overlays/9999/secrets/mysql.sops.yaml.bak", "overlays/9999/secrets/a/b.sops.yaml"):
        assert not nine.search(other), other


NAMED = """\
  defaults:
    secrets:
      mysql: {secretName: fate-mysql}
      fateboard: {secretName: fate-fateboard}
      client: {secretName: fate-notebook}
"""


def test_overlays_that_generate_no_secret_have_no_rule(tmp_path):
    """exchange-star with Secrets kept in Git: party 10000 names existing Secrets, 9999 generates its own;
    the exchange generates none. Only 9999 has a rule."""
    text = SPECS["exchange-star"].read_text()
    assert NAMED in text
    text = text.replace(NAMED, "").replace("    - id: 10000\n", "    - id: 10000\n      secrets:\n" + "".join(
        "  " + line + "\n" for line in NAMED.splitlines()[2:]))
    text = text.replace("    - id: 9999\n", f"    - id: 9999\n      sops: {{age: [{ORG_A}]}}\n")
    spec = tmp_path / "federation.yaml"
    spec.write_text(text + "  gitops:\n    path: fleet\n    sops: {}\n")
    plan = api.plan(api.load(spec))
    assert plan.encrypted
    assert [o.name for o in plan.overlays if o.secrets] == ["9999"]
    root = tmp_path / "tree"
    api.render(spec, root)
    rules = yaml.safe_load((root / ".sops.yaml").read_text())["creation_rules"]
    assert [(r["path_regex"], r["age"]) for r in rules] == [(r"^overlays/9999/secrets/[^/]+\.sops\.yaml$", ORG_A)]


def test_defaults_give_the_parties_without_their_own(tmp_path):
    text = write_spec(tmp_path / "f.yaml", [ORG_A], [ORG_B], []).read_text()
    text = text.replace("  defaults:\n", f"  defaults:\n    sops: {{age: [{EVERYONE}]}}\n")
    text = re.sub(r"      sops:\n        age: \[" + ORG_B + r"\].*\n", "", text)
    spec = tmp_path / "federation.yaml"
    spec.write_text(text)
    by_name = {o.name: o.sops_age for o in api.plan(api.load(spec)).overlays}
    assert by_name == {"9999": (ORG_A,), "10000": (EVERYONE,)}  # a party's own list replaces the defaults'


def test_without_gitops_sops_nothing_is_encrypted_and_no_overlay_has_recipients(tmp_path):
    spec = tmp_path / "federation.yaml"
    spec.write_text(SPECS["two-party"].read_text())
    plan = api.plan(api.load(spec))
    assert not plan.encrypted and all(o.sops_age == () for o in plan.overlays)


def test_removing_a_recipient_leaves_nothing_it_can_read(tmp_path, keys, monkeypatch):
    """A departing operator's key (a2) leaves party 9999's list: re-render and `secrets init` (by org-a, whose
    key still reads the files) encrypt 9999's files again, for org-a and everyone's key only; 10000's files
    are not touched; the values are the same."""
    spec = write_spec(tmp_path / "federation.yaml", [keys["a"].recipient, keys["a2"].recipient],
                      [keys["b"].recipient], [keys["everyone"].recipient])
    root = tmp_path / "tree"
    api.render(spec, root)
    init(root, monkeypatch)
    assert all(reads(keys["a2"], p) for p in secret_files(root, "9999"))
    values = {p: keys["everyone"].decrypt(p) for p in secret_files(root)}
    untouched = {p: p.read_bytes() for p in secret_files(root, "10000")}

    write_spec(spec, [keys["a"].recipient], [keys["b"].recipient], [keys["everyone"].recipient])
    api.render(spec, root)
    written = init(root, monkeypatch, keys["a"])
    assert sorted(written) == secret_files(root, "9999")
    assert not any(reads(keys["a2"], p) for p in secret_files(root))
    assert all(reads(keys["a"], p) for p in secret_files(root, "9999"))
    assert {p: keys["everyone"].decrypt(p) for p in secret_files(root)} == values
    assert {p: p.read_bytes() for p in secret_files(root, "10000")} == untouched
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in secret_files(root))
    assert sorted(p.name for p in (root / "overlays/9999/secrets").iterdir()) == [
        "client.env.example", "client.password", "client.sops.yaml", "fateboard.env.example",
        "fateboard.sops.yaml", "mysql.env.example", "mysql.sops.yaml"]  # no temporary file left
    assert init(root, monkeypatch, keys["a"]) == []  # nothing left to do


def test_removing_the_key_every_party_adds_needs_each_partys_own(tmp_path, keys, monkeypatch):
    spec = write_spec(tmp_path / "federation.yaml", [keys["a"].recipient], [keys["b"].recipient],
                      [keys["everyone"].recipient])
    root = tmp_path / "tree"
    api.render(spec, root)
    init(root, monkeypatch)
    write_spec(spec, [keys["a"].recipient], [keys["b"].recipient], [])
    api.render(spec, root)
    assert len(init(root, monkeypatch, keys["a"], keys["b"])) == 6
    assert not any(reads(keys["everyone"], p) for p in secret_files(root))
    assert all(reads(keys["a"], p) for p in secret_files(root, "9999"))
    assert all(reads(keys["b"], p) for p in secret_files(root, "10000"))


def test_a_file_the_operators_key_cannot_read_is_named_with_whose_key_it_needs(tmp_path, keys, monkeypatch):
    """org-b moves to a new key (b2); org-a's operator runs `secrets init`: 10000's files stay as they are,
    each named with the recipients that can read it; 9999's are in order; exit 2."""
    spec = write_spec(tmp_path / "federation.yaml", [keys["a"].recipient], [keys["b"].recipient], [])
    root = tmp_path / "tree"
    api.render(spec, root)
    init(root, monkeypatch)
    before = {p: p.read_bytes() for p in secret_files(root)}
    write_spec(spec, [keys["a"].recipient], [keys["b2"].recipient], [])
    api.render(spec, root)
    identities = tmp_path / "org-a.txt"
    identities.write_text(keys["a"].key_file.read_text())
    monkeypatch.setenv("KFPLUG_SOPS", keys["a"].sops)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(identities))
    result = CliRunner().invoke(main, ["secrets", "init", str(root)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert len(errors) == 3
    for line, path in zip(errors, secret_files(root, "10000"), strict=True):
        assert line.startswith(f"error: {path.relative_to(root).as_posix()}: its recipients changed")
        assert f"one of its current recipients ({keys['b'].recipient})" in line
        assert "overlay 10000's Secrets" in line and "SOPS_AGE_KEY_FILE" in line
    assert {p: p.read_bytes() for p in secret_files(root)} == before
    assert sorted(os.listdir(root / "overlays/10000/secrets")) == sorted(os.listdir(root / "overlays/9999/secrets"))

    identities.write_text(keys["b"].key_file.read_text())  # org-b runs it
    result = CliRunner().invoke(main, ["secrets", "init", str(root)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"wrote {p}" for p in secret_files(root, "10000")]
    assert all(reads(keys["b2"], p) for p in secret_files(root, "10000"))
    assert not any(reads(keys["b"], p) for p in secret_files(root))


# --- validate -------------------------------------------------------------------------------------------------

def errors(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    spec = tmp_path / "federation.yaml"
    spec.write_text(text)
    with pytest.raises(SpecError) as raised:
        api.read(spec)
    return [(issue.path, issue.message) for issue in raised.value.issues]


def test_a_members_recipients_without_gitops_sops_are_an_error(tmp_path):
    text = write_spec(tmp_path / "f.yaml", [ORG_A], [ORG_B], []).read_text()
    text = text[:text.index("  gitops:")]  # no spec.gitops at all
    found = errors(tmp_path, text)
    assert [path for path, _ in found] == ["spec.parties[0].sops", "spec.parties[1].sops"]
    assert all("spec.gitops.sops is not set" in message for _, message in found)


def test_a_member_generating_secrets_with_no_recipient_is_an_error(tmp_path):
    text = write_spec(tmp_path / "f.yaml", [ORG_A], [ORG_B], []).read_text()
    text = re.sub(r"      sops:\n        age: \[" + ORG_B + r"\].*\n", "", text)
    ((path, message),) = errors(tmp_path, text)
    assert path == "spec.parties[1].sops"
    assert "party 10000" in message and "mysql, fateboard, client" in message
    assert "sops.age" in message and "spec.gitops.sops.age" in message


def test_validate_and_compile_agree_on_who_generates_secrets():
    """kfplug/spec/sops.py decides, without the compiler, what kfplug/compile/secrets.py generates."""
    from kfplug.runtime import find
    from kfplug.spec.members import members
    from kfplug.spec.sops import generated_secrets

    for example, path in SPECS.items():
        federation = api.load(path)
        runtime = find(federation.spec.runtime)
        plan = api.plan(federation)
        compiled = {o.name: tuple(s.name for s in o.secrets) for o in plan.overlays}
        assert {m.name: generated_secrets(federation.spec, runtime, m) for m in members(federation.spec)} \
            == compiled, example


def test_a_plaintext_file_where_its_rule_wants_recipients_is_named(tree, monkeypatch):
    from kfplug.emit.secrets import SecretsError

    path = tree / "overlays/9999/secrets/mysql.sops.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: mysql}\nstringData: {password: plain}\n")
    with pytest.raises(SecretsError) as raised:
        init(tree, monkeypatch)
    assert raised.value.problems == [raised.value.problems[0]]
    assert raised.value.problems[0].startswith("overlays/9999/secrets/mysql.sops.yaml has no sops metadata")
    assert raised.value.written == []
    assert "plain" in path.read_text()  # left for the operator to encrypt
