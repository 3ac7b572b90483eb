"""Kuscia input: secrets never echoed, a valid spec passes. The bad-input cases are files in
tests/bad_input/ (kuscia-<case>.yaml) with their golden reports (tests/test_bad_input.py)."""

from __future__ import annotations

import textwrap

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
DNS = "clusters: [{name: default, dns: 10.96.0.10}]\n"


def spec(body: str, master: str = MASTER, capacity: str = CAPACITY, dns: bool = True) -> str:
    return HEAD + textwrap.indent(master + capacity + textwrap.dedent(body) + (DNS if dns else ""), "  ")


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
