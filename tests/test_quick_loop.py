"""The quick loop CONTRIBUTING.md gives runs without the network and without the tools `make tools` installs:
its marker expression leaves out `tools` (kustomize's kin, sops, an API server, FATE's software) and
`versions` (PyYAML releases pip installs from PyPI), and keeps every test that carries neither."""

from __future__ import annotations

import re

import pytest
from _pytest.mark.expression import Expression

from conftest import REPO


def quick_loop() -> Expression:
    text = (REPO / "CONTRIBUTING.md").read_text()
    match = re.search(r"For a quick loop run `\.venv/bin/python -m pytest -m \"([^\"]+)\"`", " ".join(text.split()))
    assert match, "CONTRIBUTING.md gives no quick loop"
    return Expression.compile(match.group(1))


@pytest.mark.parametrize("marks, runs", [
    (set(), True),
    ({"tools"}, False),
    ({"tools", "e2e"}, False),
    ({"tools", "app"}, False),
    ({"versions"}, False),
])
def test_the_quick_loop_leaves_out_network_and_tools(marks, runs):
    assert quick_loop().evaluate(lambda name, **kwargs: name in marks) is runs
