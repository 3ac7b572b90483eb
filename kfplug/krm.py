"""`kfplug-fn`: kfplug inside kustomize and kpt.

KRM function: a ResourceList on stdin, a ResourceList on stdout. As a generator
the functionConfig is the Federation; as a transformer it is a FederationBuild
and the Federation is an input item, consumed. Legacy exec plugin: the config
file path is argv[1] and plain YAML goes to stdout. Problems become results
(and stderr lines) with a non-zero exit. Reads no other files.
"""

from __future__ import annotations

import sys

from .diagnostics import Issue, SpecError
from .yamlio import dump, dump_all, load_stream

GROUP = "kfplug.dev/v1alpha1"
PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
DROPPED_ANNOTATIONS = ("config.kubernetes.io/function", "config.kubernetes.io/local-config",
                       "kustomize.config.k8s.io/id", "config.k8s.io/id")


class FunctionError(Exception):
    def __init__(self, issues: list[Issue]):
        self.issues = issues


def main() -> None:
    sys.exit(run(sys.argv[1:]))


def run(args: list[str]) -> int:
    if args:
        return _legacy_plugin(args[0])
    return _function(sys.stdin.buffer.read())


def _function(data: bytes | str) -> int:
    try:
        resource_list = _load(data, "<stdin>")
    except FunctionError as error:
        return _report(error.issues, None)
    if not isinstance(resource_list, dict) or resource_list.get("kind") != "ResourceList":
        return _report([Issue("<stdin>", 0, "kind", "expected a ResourceList on stdin")], None)
    items = resource_list.get("items") or []
    if not isinstance(items, list):
        return _report([Issue("<stdin>", 0, "items", "expected a list of objects")], None)
    try:
        passthrough, generated = expand(resource_list.get("functionConfig"), items)
    except FunctionError as error:
        return _report(error.issues, resource_list)
    out = {"apiVersion": resource_list.get("apiVersion", "config.kubernetes.io/v1"), "kind": "ResourceList",
           "items": passthrough + generated}
    sys.stdout.write(dump(out))
    return 0


def expand(function_config, items: list) -> tuple[list, list]:
    """(items passed through untouched, generated objects)."""
    config_kind = function_config.get("kind") if isinstance(function_config, dict) else None
    if config_kind == "Federation":
        return items, _generate(function_config, None)
    if config_kind != "FederationBuild":
        raise FunctionError([Issue("<functionConfig>", 0, "kind",
                                   "functionConfig must be a Federation or a FederationBuild")])
    federations = [i for i in items if _is_ours(i, "Federation")]
    if len(federations) != 1:
        raise FunctionError([Issue(_source(function_config), 0, "items",
                                   f"expected one Federation among the input items, found {len(federations)}")])
    passthrough = [i for i in items if i is not federations[0]]
    selection = function_config.get("spec") or {}
    if not isinstance(selection, dict):
        raise FunctionError([Issue(_source(function_config), 0, "spec", "expected a mapping")])
    return passthrough, _generate(federations[0], selection)


def _generate(document: dict, selection: dict | None) -> list[dict]:
    # The compiler is imported only when there is a Federation to expand: start-up stays light.
    from . import api
    from .emit.resources import SecretFilesNeeded

    source = _source(document)
    federation = _parse(document, source)
    names = _select(federation, selection or {}, source)
    try:
        return api.build_objects(federation, names)
    except SecretFilesNeeded as error:
        index = next(i for i, p in enumerate(federation.spec.parties) if p.id == error.overlay.name)
        raise FunctionError([Issue(source, 0, f"spec.parties[{index}].secrets.{s.name}",
                                   "required inside kustomize: kfplug fn reads no files, so name an existing "
                                   "Secret (secretName) instead of generating one")
                             for s in error.overlay.secrets]) from None


def _parse(document: dict, source: str):
    from .spec.load import parse_spec

    clean = dict(document)
    metadata = clean.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict):
        annotations = {k: v for k, v in metadata["annotations"].items()
                       if k not in DROPPED_ANNOTATIONS and not str(k).startswith(
                           ("internal.config.kubernetes.io/", "config.kubernetes.io/"))}
        metadata = {k: v for k, v in metadata.items() if k != "annotations"}
        if annotations:
            metadata["annotations"] = annotations
        clean["metadata"] = metadata
    try:
        federation, _ = parse_spec(dump(clean), source)
    except SpecError as error:
        raise FunctionError([Issue(source, 0, i.path, i.message) for i in error.issues]) from None
    return federation


def _select(federation, selection: dict, source: str) -> list[str] | None:
    parties, cluster = selection.get("parties"), selection.get("cluster")
    if parties is not None and cluster is not None:
        raise FunctionError([Issue(source, 0, "spec", "select either parties or cluster, not both")])
    if parties is not None and not isinstance(parties, list):
        raise FunctionError([Issue(source, 0, "spec.parties", "expected a list of party ids")])
    if cluster is not None and not isinstance(cluster, str):
        raise FunctionError([Issue(source, 0, "spec.cluster", "expected a cluster name")])
    known = {p.id: p.cluster for p in federation.spec.parties}
    if federation.spec.exchange is not None:
        known["exchange"] = federation.spec.exchange.cluster
    if federation.spec.master is not None:
        known["master"] = federation.spec.master.cluster
    if parties is not None:
        wanted = [str(p) for p in parties]
        unknown = [p for p in wanted if p not in known]
        if unknown:
            raise FunctionError([Issue(source, 0, "spec.parties", f"unknown party {', '.join(unknown)}")])
        return wanted
    if cluster is not None:
        if cluster not in {c.name for c in federation.spec.clusters}:
            raise FunctionError([Issue(source, 0, "spec.cluster", f"unknown cluster {cluster!r}")])
        return [name for name, member_cluster in known.items() if member_cluster == cluster]
    return None


def _is_ours(item, kind: str) -> bool:
    return isinstance(item, dict) and item.get("apiVersion") == GROUP and item.get("kind") == kind


def _source(document: dict) -> str:
    metadata = document.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    for key in PATH_ANNOTATIONS:
        if isinstance(annotations, dict) and isinstance(annotations.get(key), str):
            return annotations[key]
    return "<functionConfig>"


def _report(issues: list[Issue], resource_list: dict | None) -> int:
    for issue in issues:
        print(str(issue), file=sys.stderr)
    results = [_result(issue) for issue in issues]
    out = {"apiVersion": (resource_list or {}).get("apiVersion", "config.kubernetes.io/v1"),
           "kind": "ResourceList", "items": (resource_list or {}).get("items") or [], "results": results}
    if not isinstance(out["items"], list):
        out["items"] = []
    sys.stdout.write(dump(out))
    return 1


def _result(issue: Issue) -> dict:
    result = {"message": issue.message, "severity": issue.severity}
    if issue.path:
        result["field"] = {"path": issue.path}
    result["file"] = {"path": issue.file}
    return result


def _load(data: bytes | str, source: str):
    """A YAML stream from the orchestrator; raises FunctionError."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return load_stream(text, source)
    except UnicodeDecodeError as error:
        raise FunctionError([Issue(source, 0, "", f"not valid UTF-8 at byte {error.start}")]) from None
    except SpecError as error:
        raise FunctionError(error.issues) from None


def _legacy_plugin(config_path: str) -> int:
    """kustomize's legacy exec generator: argv[1] is a temp file holding the Federation."""
    try:
        try:
            with open(config_path, "rb") as handle:
                document = _load(handle.read(), config_path)
        except OSError as error:
            raise FunctionError([Issue(config_path, 0, "", f"cannot read: {error.strerror}")]) from None
        if not _is_ours(document, "Federation"):
            raise FunctionError([Issue(config_path, 0, "kind", f"expected a {GROUP} Federation")])
        objects = _generate(document, None)
    except FunctionError as error:
        for issue in error.issues:
            print(str(issue), file=sys.stderr)
        return 1
    sys.stdout.write(dump_all(objects))
    return 0


def plugin_home() -> str:
    """Where kustomize looks for legacy plugins, in its own order of preference."""
    import os

    if os.environ.get("KUSTOMIZE_PLUGIN_HOME"):
        return os.environ["KUSTOMIZE_PLUGIN_HOME"]
    if os.environ.get("XDG_CONFIG_HOME"):
        return os.path.join(os.environ["XDG_CONFIG_HOME"], "kustomize", "plugin")
    return os.path.join(os.path.expanduser("~"), ".config", "kustomize", "plugin")


def install_plugin(home: str | None = None) -> str:
    """Write the legacy exec plugin `<home>/kfplug.dev/v1alpha1/federation/Federation`."""
    import os
    import shlex

    directory = os.path.join(home or plugin_home(), GROUP, "federation")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "Federation")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"#!/bin/sh\n# kfplug as a kustomize legacy exec generator\n"
                     f"exec {shlex.quote(sys.executable)} -m kfplug.krm \"$@\"\n")
    os.chmod(path, 0o755)
    return path


if __name__ == "__main__":
    main()
