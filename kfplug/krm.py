"""`kfplug-fn`: kfplug inside kustomize and kpt.

KRM function: a ResourceList on stdin, a ResourceList on stdout. As a generator
the functionConfig is the Federation; as a transformer it is a FederationBuild
and the Federation is an input item, consumed. Legacy exec plugin: the config
file path is argv[1] and plain YAML goes to stdout. Problems become results
(and stderr lines) with a non-zero exit. Reads no other files.
"""

from __future__ import annotations

import sys
from typing import Any

from .diagnostics import Issue, SpecError
from .yamlread import load_stream, read_file
from .yamlwrite import dump, dump_all

GROUP = "kfplug.dev/v1alpha1"
PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")


def main() -> None:
    sys.exit(run(sys.argv[1:]))


def run(args: list[str]) -> int:
    return legacy_plugin(args[0]) if args else function(sys.stdin.buffer.read())


def function(data: bytes | str) -> int:
    resource_list: dict[str, Any] = {}
    try:
        resource_list = _resource_list(load_stream(data, "<stdin>"))
        items = expand(resource_list.get("functionConfig"), resource_list["items"])
    except SpecError as error:
        _print(error)
        results = [_result(issue) for issue in error.issues]
        sys.stdout.write(dump({**_header(resource_list), "items": resource_list.get("items", []), "results": results}))
        return 1
    sys.stdout.write(dump({**_header(resource_list), "items": items}))
    return 0


def expand(function_config: object, items: list[Any]) -> list[Any]:
    """The items passed through untouched, then the generated objects."""
    kind = function_config.get("kind") if isinstance(function_config, dict) else None
    if not isinstance(function_config, dict) or kind not in ("Federation", "FederationBuild"):
        raise SpecError([Issue("<functionConfig>", 0, "kind",
                               "functionConfig must be a Federation or a FederationBuild")])
    if kind == "Federation":
        return items + _generate(function_config)
    federations = [i for i in items if isinstance(i, dict) and i.get("apiVersion") == GROUP
                   and i.get("kind") == "Federation"]
    if len(federations) != 1:
        raise SpecError([Issue(source_of(function_config), 0, "items",
                               f"expected one Federation among the input items, found {len(federations)}")])
    rest = [i for i in items if i is not federations[0]]
    return rest + _generate(federations[0], function_config.get("spec"), source_of(function_config))


def _generate(federation: dict[str, Any], selection: object = None, selection_source: str = "") -> list[Any]:
    from . import api  # the compiler loads only when there is a Federation to expand

    return api.generate(federation, source_of(federation), selection, selection_source)


def source_of(document: dict[str, Any]) -> str:
    """The file an orchestrator read `document` from, as its annotations say."""
    metadata = document.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    for key in PATH_ANNOTATIONS:
        if isinstance(annotations, dict) and isinstance(annotations.get(key), str):
            return str(annotations[key])
    return "<functionConfig>"


def legacy_plugin(config_path: str) -> int:
    """kustomize's legacy exec generator: argv[1] is a temp file holding the Federation."""
    from . import api

    try:
        try:
            data = read_file(config_path)
        except OSError as error:
            raise SpecError([Issue(config_path, 0, "", f"cannot read: {error.strerror}")]) from None
        objects = api.generate_from_text(data, config_path)
    except SpecError as error:
        _print(error)
        return 1
    sys.stdout.write(dump_all(objects))
    return 0


def _resource_list(document: object) -> dict[str, Any]:
    if not isinstance(document, dict) or document.get("kind") != "ResourceList":
        raise SpecError([Issue("<stdin>", 0, "kind", "expected a ResourceList on stdin")])
    items = document.get("items") or []
    if not isinstance(items, list):
        raise SpecError([Issue("<stdin>", 0, "items", "expected a list of objects")])
    return {**document, "items": items}


def _header(resource_list: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": resource_list.get("apiVersion", "config.kubernetes.io/v1"), "kind": "ResourceList"}


def _print(error: SpecError) -> None:
    for issue in error.issues:
        print(str(issue), file=sys.stderr)


def _result(issue: Issue) -> dict[str, Any]:
    result: dict[str, Any] = {"message": issue.message, "severity": issue.severity}
    if issue.path:
        result["field"] = {"path": issue.path}
    result["file"] = {"path": issue.file}
    return result


if __name__ == "__main__":
    main()
