"""Hostile input and output (reliability.md §3.3 and §4).

The reader's limits, secret values never echoed, a writer that never follows a
symbolic link nor leaves a partial tree, and fuzzed specs that give clean
errors through the CLI and the KRM function: never a traceback, never a
partial output. The fuzzing is derandomized (profile `ci`); set
KFPLUG_FUZZ=deep for a longer, random run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, SPECS
from kfplug import krm
from kfplug.cli import main
from kfplug.diagnostics import SpecError
from kfplug.emit import write
from kfplug.emit.write import write_tree
from kfplug.spec.load import parse_spec
from test_bad_input import HEAD, assert_render_writes_nothing

TWO_PARTY = REPO / "examples/two-party/federation.yaml"
KRM_SPEC = SPECS["krm-function"]


def spec(body: str, head: str = HEAD) -> str:
    return head + textwrap.indent(textwrap.dedent(body), "  ")


def party(body: str) -> str:
    return spec("parties:\n  - id: 9999\n" + textwrap.indent(textwrap.dedent(body), "    "))


def tree_digest(root: Path) -> str:
    """Names, link targets and contents under `root`, never following a link."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_symlink():
            digest.update(os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cli(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


def render(spec_file: Path, out: Path, *extra: str):
    return cli("render", str(spec_file), "-o", str(out), *extra)


# ---------------------------------------------------------------------------------------------------------------
# reliability.md §3.3: the reader's limits on inputs too large to keep as files; every other bad-input case,
# §3.3 ones included, is a file in tests/bad_input/ with its golden report (tests/test_bad_input.py)

SIZE_LIMITS = [
    ("20-deep-brackets", "[" * 50_000 + "]" * 50_000, "federation.yaml:1: error: nesting deeper than 64 levels\n"),
    ("20-deep-brackets-1mb", "[" * 500_000 + "]" * 500_000,
     "federation.yaml:1: error: nesting deeper than 64 levels\n"),
    ("21-huge-input", spec("parties:\n" + "".join(f"  - id: {i}\n" for i in range(1, 100_000))),
     "federation.yaml: error: input is 1589002 bytes; the limit is 1048576\n"),
]


@pytest.mark.parametrize("text, report", [c[1:] for c in SIZE_LIMITS], ids=[c[0] for c in SIZE_LIMITS])
def test_inputs_beyond_the_limits_are_refused_and_write_nothing(tmp_path, monkeypatch, text, report):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "federation.yaml").write_text(text)
    result = cli("validate", "federation.yaml")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.stderr) == (1, report + "1 error\n")
    assert_render_writes_nothing("federation.yaml", tmp_path, result.stderr)


def test_alias_bomb_is_refused_before_anything_expands_it(tmp_path):
    bomb = "a0: &a0 [lol]\n" + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    with pytest.raises(SpecError) as raised:  # refused at the first anchor event: nothing is ever built
        parse_spec(spec("parties: [{id: 9999}]\nmaster:\n" + textwrap.indent(bomb, "  ")), "fed.yaml")
    assert [str(i) for i in raised.value.issues] == ["fed.yaml:10: error: YAML anchors are not allowed (&a0)"]


def test_an_endless_spec_file_is_read_no_further_than_the_limit():
    result = cli("validate", "/dev/zero")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "/dev/zero: error: input is more than 1048576 bytes; the limit is 1048576"


def test_a_file_reference_is_never_read(tmp_path):
    """The spec has no file references at all: a `...From: {file: ...}` is an unknown field, never opened."""
    outside = tmp_path / "outside.txt"
    outside.write_text("CANARY-CONTENT\n")
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (spec_dir / "pw.txt").symlink_to(outside)
    spec_file = spec_dir / "federation.yaml"
    for reference in (f"{outside}", "../outside.txt", "pw.txt"):
        spec_file.write_text(party(f"secrets: {{mysql: {{passwordFrom: {{file: '{reference}'}}}}}}\n"))
        result = cli("validate", str(spec_file))
        assert result.exit_code == 1
        assert "unknown field 'passwordFrom'" in result.stderr
        assert "CANARY" not in result.output


# ---------------------------------------------------------------------------------------------------------------
# secret values in the spec: rejected, never echoed

SECRET = "Hunter2-s3cr3t"


@pytest.mark.parametrize("body, path", [
    (f"secrets: {{mysql: {{password: {SECRET}}}}}\n", "spec.parties[0].secrets.mysql.password"),
    (f"secrets: {{mysql: {SECRET}}}\n", "spec.parties[0].secrets.mysql"),
    (f"secrets: {SECRET}\n", "spec.parties[0].secrets"),
    (f"secrets: {{mysql: {{secretName: {SECRET}}}}}\n", "spec.parties[0].secrets.mysql.secretName"),
    (f"ingress: {{domain: x.org, tls: {{secretName: {SECRET}}}}}\n", "spec.parties[0].ingress.tls.secretName"),
    (f"password: {SECRET}\n", "spec.parties[0].password"),
    (f"mysqlPassword: {SECRET}\n", "spec.parties[0].mysqlPassword"),
    (f"secrets: {{client: {{token: {SECRET}}}}}\n", "spec.parties[0].secrets.client.token"),
], ids=["password", "secret-as-string", "secrets-as-string", "secret-name", "tls-secret-name", "party-password",
        "mysql-password", "token"])
def test_inline_secret_values_are_rejected_and_never_echoed(tmp_path, body, path):
    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(party(body))
    result = cli("validate", str(spec_file))
    assert result.exit_code == 1
    assert f"{spec_file}:10: error: {path}: " in result.stderr
    assert SECRET not in result.output


@pytest.mark.parametrize("value, shown", [
    ("4815162342", "4815162342"),        # a number: "expected a string, got integer ..."
    ("0123456", "0123456"),              # YAML 1.1 octal: neither the text nor its reading 42798
    ("0123456", "42798"),
    ("2024-01-01", "2024-01-01"),        # a timestamp
    ("on", "'on'"),                      # a YAML 1.1 boolean
], ids=["number", "octal", "octal-reading", "timestamp", "boolean"])
def test_secret_values_that_yaml_misreads_are_not_echoed_either(tmp_path, value, shown):
    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(party(f"secrets: {{mysql: {{secretName: {value}, password: {value}}}}}\n"))
    result = cli("validate", str(spec_file))
    assert result.exit_code == 1
    assert "spec.parties[0].secrets.mysql.password" in result.stderr
    assert shown not in result.stderr, result.stderr


def test_a_secret_key_gets_a_hint_instead_of_a_guess(tmp_path):
    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(party("secrets: {mysql: {password: x}}\n"))
    result = cli("validate", str(spec_file))
    assert "unknown field 'password': the spec never holds secret values: name an existing Secret (secretName)" \
        in result.stderr


def test_values_outside_secret_fields_are_still_shown(tmp_path):
    spec_file = tmp_path / "federation.yaml"
    spec_file.write_text(party("namespace: Not_A_Label\n"))
    result = cli("validate", str(spec_file))
    assert "'Not_A_Label' is not a DNS-1123 label" in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# output: dangerous directories, symbolic links, atomic writes

@pytest.fixture
def spec_file(tmp_path) -> Path:
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    path = spec_dir / "federation.yaml"
    path.write_text(TWO_PARTY.read_text())
    return path


@pytest.fixture
def victim(tmp_path) -> Path:
    """A directory outside every output tree, with a file someone would like to read, and a lure."""
    directory = tmp_path / "victim"
    directory.mkdir()
    (directory / "stolen.env").write_text("password=VICTIM-SECRET\n")
    (directory / "lure.env.example").write_text("password=\n")
    return directory


@pytest.mark.parametrize("target", ["spec-parent", "a-file", "link-to-empty", "link-to-output", "dangling-link"])
def test_refuses_more_dangerous_output_directories(tmp_path, spec_file, target):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rendered = tmp_path / "rendered"
    assert render(spec_file, rendered).exit_code == 0
    a_file = tmp_path / "a-file"
    a_file.write_text("mine\n")
    out = {"spec-parent": tmp_path, "a-file": a_file, "link-to-empty": tmp_path / "l1",
           "link-to-output": tmp_path / "l2", "dangling-link": tmp_path / "l3"}[target]
    (tmp_path / "l1").symlink_to(elsewhere)
    (tmp_path / "l2").symlink_to(rendered)
    (tmp_path / "l3").symlink_to(tmp_path / "nowhere")
    before = tree_digest(tmp_path)

    result = render(spec_file, out)

    assert result.exit_code == 2, result.output
    assert re.search(r"refusing to write|is a file", result.stderr), result.stderr
    assert tree_digest(tmp_path) == before
    assert not (tmp_path / "nowhere").exists()


def test_a_linked_secrets_directory_is_neither_read_nor_written(tmp_path, spec_file, victim):
    out = tmp_path / "out"
    assert render(spec_file, out).exit_code == 0
    secrets = out / "overlays/9999/secrets"
    for path in secrets.iterdir():
        path.unlink()
    secrets.rmdir()
    secrets.symlink_to(victim)
    before = tree_digest(victim)

    assert render(spec_file, out).exit_code == 0

    assert not secrets.is_symlink() and secrets.is_dir()
    assert not (secrets / "stolen.env").exists(), "a file behind the link was copied into the tree"
    assert tree_digest(victim) == before


def test_a_planted_file_link_is_replaced_and_its_target_untouched(tmp_path, spec_file, victim):
    out = tmp_path / "out"
    assert render(spec_file, out).exit_code == 0
    kustomization = out / "overlays/9999/kustomization.yaml"
    kustomization.unlink()
    kustomization.symlink_to(victim / "stolen.env")
    (out / "overlays/9999/secrets/mysql.env").symlink_to(victim / "stolen.env")

    assert render(spec_file, out).exit_code == 0

    assert not kustomization.is_symlink() and kustomization.read_text().startswith("# generated by kfplug")
    assert not (out / "overlays/9999/secrets/mysql.env").exists(), "a secret file link was carried over"
    assert (victim / "stolen.env").read_text() == "password=VICTIM-SECRET\n"


def test_check_reports_a_planted_link_without_reading_it(tmp_path, spec_file, victim):
    out = tmp_path / "out"
    assert render(spec_file, out).exit_code == 0
    kustomization = out / "overlays/9999/kustomization.yaml"
    kustomization.unlink()
    kustomization.symlink_to(victim / "stolen.env")

    result = render(spec_file, out, "--check")

    assert result.exit_code == 1
    assert "--- a/overlays/9999/kustomization.yaml" in result.stdout
    assert "VICTIM-SECRET" not in result.output


def test_check_refuses_a_linked_output_directory(tmp_path, spec_file):
    out = tmp_path / "out"
    assert render(spec_file, out).exit_code == 0
    (tmp_path / "link").symlink_to(out)
    result = render(spec_file, tmp_path / "link", "--check")
    assert result.exit_code == 2
    assert "symbolic link" in result.stderr


def test_secrets_init_never_writes_through_a_link(tmp_path, spec_file, victim):
    out = tmp_path / "out"
    assert render(spec_file, out).exit_code == 0
    secrets_9999 = out / "overlays/9999/secrets"
    for path in secrets_9999.iterdir():
        path.unlink()
    secrets_9999.rmdir()
    secrets_9999.symlink_to(victim)                                                  # a linked directory
    (out / "overlays/10000/secrets/mysql.env").symlink_to(victim / "mysql.env")      # a dangling file link
    (out / "overlays/10000/secrets/client.password").symlink_to(victim / "client.password")
    before = tree_digest(victim)

    result = cli("secrets", "init", str(out))

    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert tree_digest(victim) == before
    assert not (victim / "lure.env").exists()
    assert (out / "overlays/10000/secrets/fateboard.env").stat().st_mode & 0o777 == 0o600
    assert (out / "overlays/10000/secrets/client.env").is_file()


def test_secrets_init_reads_no_pipe(tmp_path, spec_file):
    out = tmp_path / "out"
    assert render(spec_file, out).exit_code == 0
    fifo = out / "overlays/9999/secrets/blocking.env.example"
    os.mkfifo(fifo)  # reading it waits for a writer

    def end_a_blocked_read():  # so that a regression fails the test instead of hanging it
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    rescue = threading.Timer(5, end_a_blocked_read)
    rescue.start()
    try:
        result = cli("secrets", "init", str(out))
    finally:
        rescue.cancel()
    assert result.exit_code == 0, result.output
    assert not (out / "overlays/9999/secrets/blocking.env").exists()


def test_a_failed_write_leaves_the_old_tree_and_no_temporary_directory(tmp_path, spec_file, monkeypatch):
    out = tmp_path / "out"
    assert render(spec_file, out).exit_code == 0
    before = tree_digest(tmp_path)
    real_write, written = write._write_file, []

    def disk_full_after_three(path, data, mode):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        real_write(path, data, mode)

    monkeypatch.setattr(write, "_write_file", disk_full_after_three)
    result = render(spec_file, out)

    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert f"error: cannot write to {out}: No space left on device" in result.stderr
    assert tree_digest(tmp_path) == before
    assert not list(tmp_path.glob(".kfplug-*"))


def test_a_failed_swap_puts_the_old_tree_back(tmp_path, spec_file, monkeypatch):
    out = tmp_path / "out"
    assert render(spec_file, out).exit_code == 0
    before = tree_digest(tmp_path)
    real_rename = os.rename

    def refuse_staging(src, dst):
        if Path(src).name.startswith(".kfplug-") and Path(dst) == out:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_rename(src, dst)

    monkeypatch.setattr(write.os, "rename", refuse_staging)
    result = render(spec_file, out)

    assert result.exit_code == 2
    assert tree_digest(tmp_path) == before
    assert not list(tmp_path.glob(".kfplug-*"))


def test_an_unwritable_place_is_an_error_not_a_traceback(spec_file):
    result = render(spec_file, Path("/proc/kfplug-out"))
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "error: cannot write to /proc/kfplug-out" in result.stderr


@pytest.mark.parametrize("relative", ["../escaped.yaml", "/tmp/absolute.yaml", "overlays/../../escaped.yaml", ""])
def test_the_writer_never_writes_outside_the_output(tmp_path, relative):
    with pytest.raises(ValueError, match="not a path inside the output"):
        write_tree({".kfplug-output": "x\n", relative: "x\n"}, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------------
# reliability.md §3.3 case 27: a malformed ResourceList gives results, never a traceback

RL = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
FEDERATION_ITEM = yaml.safe_dump(yaml.safe_load(KRM_SPEC.read_text()), default_flow_style=True, width=10_000).strip()


def run_function(stdin: bytes | str) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = krm.function(stdin)
    return code, yaml.safe_load(out.getvalue()), err.getvalue()


KRM_CASES = [
    (RL + "items: 5\n", "items", "expected a list of objects"),
    (RL + "functionConfig: [1]\n", "kind", "functionConfig must be a Federation or a FederationBuild"),
    (RL + "functionConfig: federation\n", "kind", "functionConfig must be a Federation or a FederationBuild"),
    (RL + "functionConfig: {kind: Federation, metadata: x}\n", "metadata", "expected a mapping, got string 'x'"),
    (RL + "functionConfig: {kind: Federation, metadata: {annotations: [a]}}\n", "metadata.annotations",
     "expected a mapping"),
    (RL + "functionConfig: {kind: Federation, metadata: {annotations: config.kubernetes.io/path}}\n",
     "metadata.annotations", "expected a mapping"),
    (RL + f"items: [{FEDERATION_ITEM}]\nfunctionConfig: {{kind: FederationBuild, spec: [1]}}\n", "spec",
     "expected a mapping"),
    (RL + f"items: [{FEDERATION_ITEM}]\nfunctionConfig: {{kind: FederationBuild, spec: {{parties: 9999}}}}\n",
     "spec.parties", "expected a list of party ids"),
    (RL + f"items: [{FEDERATION_ITEM}]\nfunctionConfig: {{kind: FederationBuild, spec: {{cluster: [a]}}}}\n",
     "spec.cluster", "expected a cluster name"),
    (RL + "items: " + "[" * 50_000 + "]" * 50_000 + "\n", None, "nesting deeper than 256 levels"),
    (RL.encode() + b"items: [\xff]\n", None, "not valid UTF-8 at byte"),
    (RL + "items: [\x07]\n", None, "control characters are not allowed"),
    (RL + "items: [{[1]: 2}]\n", None, "invalid YAML"),
    (RL + "---\n" + RL, None, "invalid YAML"),
]
KRM_IDS = ["items-not-a-list", "config-a-list", "config-a-string", "metadata-a-string", "annotations-a-list",
           "annotations-a-string", "selection-a-list", "parties-not-a-list", "cluster-not-a-name", "deep-nesting",
           "invalid-utf8", "control-character", "unhashable-key", "two-documents"]


@pytest.mark.parametrize("stdin, path, message", KRM_CASES, ids=KRM_IDS)
def test_malformed_resource_lists_become_results(stdin, path, message):
    code, out, err = run_function(stdin)
    assert code == 1
    assert out["kind"] == "ResourceList" and isinstance(out["items"], list)
    results = out["results"]
    assert any(message in r["message"] and r["severity"] == "error"
               and (path is None or r.get("field", {}).get("path") == path) for r in results), results
    assert message in err


def test_an_alias_bomb_in_the_federation_item_is_refused():
    bomb = "{a0: &a0 [lol], " + ", ".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)) + "}"
    code, out, _ = run_function(RL + f"functionConfig: {{kind: Federation, metadata: {{name: a}}, spec: {bomb}}}\n")
    assert code == 1
    assert "anchors are not allowed" in out["results"][0]["message"]


def test_kfplug_fn_reads_its_input_as_bytes():
    result = cli("fn", input=RL.encode() + b"items: [\xff]\n")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert yaml.safe_load(result.stdout)["results"][0]["message"] == f"not valid UTF-8 at byte {len(RL) + 8}"


def test_the_legacy_plugin_reports_an_unreadable_config(tmp_path, capsys):
    bad = tmp_path / "config.yaml"
    bad.write_bytes(b"kind: [\xff\n")
    assert krm.run([str(bad)]) == 1
    assert krm.run([str(tmp_path / "missing.yaml")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: error: not valid UTF-8 at byte 7" in err
    assert "missing.yaml: error: cannot read: No such file or directory" in err


# ---------------------------------------------------------------------------------------------------------------
# fuzzing: mutated example specs through the CLI and the KRM function

settings.register_profile("ci", max_examples=400, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", settings.get_profile("ci"), max_examples=5000, derandomize=False)
FUZZ = settings.get_profile(os.environ.get("KFPLUG_FUZZ", "ci"))

EXAMPLE_TEXTS = {name: path.read_text() for name, path in SPECS.items()}
ODD_SCALARS = [None, True, False, "", " ", "yes", "no", "on", "~", "null", "010", "0x1F", "12:30", "1e400", ".nan",
               "-.inf", "2024-01-01", 0, -1, 1.5, 2 ** 63, 10 ** 60, 1e308, -0.0, "9999", "ｆａｔｅ", "\u202e9999",  # noqa: RUF001 (full-width letters on purpose)
               "\u0000", "\ud7ff", "a" * 300, "../../etc/passwd", "/etc/shadow", "${HOME}", "@MYSQL_PASSWORD@",
               "{{ .Values }}", "*alias", "&anchor", "!!python/object/apply:os.system", "- item", "key: value",
               "\t", "\n", "'", '"', [], {}, [None], {"password": "hunter2"}, {"": ""}, {"1": 1}]
ODD_KEYS = ["", "id", "ID", "parites", "namepsace", "password", "token", "<<", "1", "spec", "metadata", "ｉｄ",  # noqa: RUF001 (full-width on purpose)
            "a b", "a.b", "[0]", "\u202e"]
# problems with the whole file or its top-level node, which have no field path
DOCUMENT_LEVEL = re.compile(r"invalid YAML|YAML (aliases|anchors) are not allowed|nesting deeper|NUL byte|"
                            r"control characters|input is|not valid (UTF-8|Unicode)|holds no document|"
                            r"exactly one document|expected a mapping, got|mapping keys must be plain strings|"
                            r"unsupported tag")
# a line the CLI prints: <file>:<line>: error: <message>, or <file>: error: for the whole file (size, encoding)
ERROR_LINE = re.compile(r"^(?P<file>.+?)(?::(?P<line>[1-9][0-9]*))?: error: (?P<rest>.*)$")

scalars = st.one_of(st.sampled_from(ODD_SCALARS), st.integers(), st.floats(), st.text(max_size=20), st.booleans())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.sampled_from(ODD_KEYS), inner, max_size=3)),
                      max_leaves=6)


def paths_of(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths_of(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths_of(value, path + (index,))


def nested(depth: int):
    return [nested(depth - 1)] if depth else "leaf"


@st.composite
def mutated_documents(draw):
    """An example spec as data, with a few fields deleted, duplicated, retyped, renamed or added; and maybe
    odd placement (affinity, tolerations) made of arbitrary values, which validation must reject cleanly."""
    document = yaml.safe_load(EXAMPLE_TEXTS[draw(st.sampled_from(sorted(EXAMPLE_TEXTS)))])
    placed = draw(st.booleans())
    if placed:
        document["spec"]["parties"][0]["placement"] = {
            "affinity": draw(st.dictionaries(st.sampled_from(["nodeAffinity", "podAffinity", "podAntiAffinity"]),
                                             values, max_size=2)),
            "tolerations": draw(st.lists(st.dictionaries(st.sampled_from(["key", "operator", "value", "effect"]),
                                                         values, max_size=3), max_size=2))}
    for _ in range(draw(st.integers(0 if placed else 1, 4))):
        paths = [p for p in paths_of(document) if p]
        path = draw(st.sampled_from(paths))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        kind = draw(st.sampled_from(["delete", "duplicate", "replace", "rename", "add", "wrap", "deep"]))
        if kind == "delete":
            del parent[last]
        elif kind == "duplicate" and isinstance(parent, list):
            parent.insert(last, parent[last])
        elif kind == "replace" or kind == "duplicate":
            parent[last] = draw(values)
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(ODD_KEYS))] = parent.pop(last)
        elif kind == "add" and isinstance(parent[last], dict):
            parent[last][draw(st.sampled_from(ODD_KEYS))] = draw(values)
        elif kind == "deep":
            parent[last] = nested(draw(st.integers(60, 70)))
        else:
            parent[last] = draw(st.sampled_from([[parent[last]], {"value": parent[last]}]))
    return document


@st.composite
def mutated_texts(draw):
    """An example spec as text, cut, spliced with odd tokens or random bytes."""
    data = EXAMPLE_TEXTS[draw(st.sampled_from(sorted(EXAMPLE_TEXTS)))].encode()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["truncate", "insert", "delete", "bytes", "line", "indent"]))
        if kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            token = draw(st.sampled_from(["&a ", "*a", "!!python/object/apply:os.system ", "{", "[", "]", ": ", "- ",
                                          "---\n", "\t", "\x00", "'", '"', "? ", "<<: *a\n", "%YAML 1.1\n", "#",
                                          "\u2028", "\x85", "\ufeff", "9" * 5000, "[" * 100, "\\ud800"]))
            data = data[:at] + token.encode("utf-8", "surrogatepass") + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 40)):]
        elif kind == "bytes":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif kind == "line":
            lines = data.splitlines(keepends=True) or [b""]
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[index])
            data = b"".join(lines)
        else:
            data = data[:at] + b" " * draw(st.integers(1, 5)) + data[at:]
    return data


def dump_document(document) -> bytes:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode("utf-8", "surrogatepass")


def assert_clean_cli_outcome(data: bytes) -> None:
    """Exit 0 with a full tree, or exit 1 with only well-formed error lines and nothing written."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        spec_file = root / "federation.yaml"
        spec_file.write_bytes(data)
        out = root / "out"
        result = render(spec_file, out)
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            f"{type(result.exception).__name__}: {result.exception}\n{data[:3000]!r}"
        assert result.exit_code in (0, 1), result.output
        if result.exit_code == 0:
            assert (out / ".kfplug-output").is_file() and list(out.glob("overlays/*/kustomization.yaml"))
            return
        assert sorted(p.name for p in root.iterdir()) == ["federation.yaml"], "a failed render wrote something"
        *lines, count = result.stderr.splitlines()
        assert lines and re.fullmatch(rf"{len(lines)} errors?", count), result.stderr
        for row in lines:
            match = ERROR_LINE.match(row)
            assert match and match["file"] == str(spec_file), row
        try:
            parse_spec(data, "federation.yaml")
        except SpecError as error:
            issues = error.issues
        else:
            raise AssertionError("the CLI failed where the loader accepts")
        assert issues, "a SpecError without issues"
        total_lines = data.count(b"\n") + 2
        for issue in issues:
            assert issue.file == "federation.yaml"
            if issue.path:
                assert 1 <= issue.line <= total_lines, issue
            else:
                assert DOCUMENT_LEVEL.search(issue.message), f"an error without a field path: {issue}"
                assert issue.line or re.search(r"input is|UTF-8|Unicode", issue.message), issue


@FUZZ
@given(mutated_documents())
def test_fuzzed_specs_give_clean_errors_in_the_cli(document):
    assert_clean_cli_outcome(dump_document(document))


@settings(FUZZ, max_examples=FUZZ.max_examples // 2)
@given(mutated_texts())
def test_fuzzed_spec_texts_give_clean_errors_in_the_cli(data):
    assert_clean_cli_outcome(data)


def assert_clean_function_outcome(stdin: bytes) -> None:
    code, out, err = run_function(stdin)
    assert code in (0, 1)
    assert out["kind"] == "ResourceList" and isinstance(out["items"], list)
    if code == 0:
        assert not out.get("results")
        return
    assert out["results"] and err.strip()
    for result in out["results"]:
        assert result["severity"] == "error" and result["message"] and isinstance(result["file"]["path"], str)


@settings(FUZZ, max_examples=FUZZ.max_examples // 2)
@given(mutated_documents(), st.sampled_from(["generator", "transformer"]),
       st.sampled_from([{}, {"parties": [9999]}, {"cluster": "org-a"}, {"parties": ["nope"]}, {"cluster": 5}]))
def test_fuzzed_federations_give_results_in_the_function(document, mode, selection):
    if mode == "generator":
        resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
                         "functionConfig": document}
    else:
        if isinstance(document, dict):
            document.update(apiVersion="kfplug.dev/v1alpha1", kind="Federation")
        other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}}
        resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [other, document],
                         "functionConfig": {"apiVersion": "kfplug.dev/v1alpha1", "kind": "FederationBuild",
                                            "metadata": {"name": "b"}, "spec": selection}}
    assert_clean_function_outcome(dump_document(resource_list))


@settings(FUZZ, max_examples=FUZZ.max_examples // 4)
@given(mutated_texts())
def test_fuzzed_resource_list_texts_give_results_in_the_function(data):
    stdin = RL.encode() + b"functionConfig:\n" + b"".join(b"  " + line + b"\n" for line in data.splitlines())
    assert_clean_function_outcome(stdin)
