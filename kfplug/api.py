"""The public facade: what the CLI and the KRM entry point call.

The writer's modules are imported where they are used: `kfplug-fn` runs once
per kustomize build and never writes files; `kfplug validate` never compiles.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .diagnostics import Issue, SpecError
from .spec.load import parse_object, parse_spec, read_spec
from .spec.model import Federation

if TYPE_CHECKING:
    from .emit.pki import Made
    from .plan import Plan

T = TypeVar("T")


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Reading and compiling allocate a million small objects and leave no cycles behind; the
    cycle collector would walk the growing heap again and again (a third of the compile time of a
    thousand parties). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _bulk(function: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with _no_cycle_collection():
            return function(*args, **kwargs)
    return wrapper


@_bulk
def read(spec_file: str | Path) -> tuple[Federation, list[Issue]]:
    """Read and validate a spec: (federation, warnings). Raises SpecError with every error."""
    return read_spec(spec_file)


def load(spec_file: str | Path) -> Federation:
    """`read`, for callers that report no warnings."""
    return read(spec_file)[0]


@_bulk
def plan(federation: Federation) -> Plan:
    from .compile import compile_plan

    return compile_plan(federation)


@_bulk
def render(spec_file: str | Path, out: str | Path) -> list[Issue]:
    """Write the kustomize tree for `spec_file` into `out`, atomically. Returns the warnings."""
    return render_tree(spec_file, out).warnings


@attrs.frozen
class Rendered:
    """What `render_tree` wrote, for the summary `kfplug render` prints."""
    warnings: list[Issue]
    files: int  # the files of the tree (the secret files it keeps are not counted)
    clusters: dict[str, tuple[str, ...]]  # cluster -> the overlays it holds
    deploy: tuple[str, ...]  # the Flux and Argo CD directories, deploy/<tool>/<cluster>
    unsecreted: tuple[str, ...]  # overlays with a generated Secret whose values `kfplug secrets init` has not made
    encrypted: bool  # the Secrets are kept in Git with SOPS


def render_tree(spec_file: str | Path, out: str | Path) -> Rendered:
    """`render`, returning what it wrote as well as the warnings."""
    from .emit.tree import tree_files
    from .emit.write import check_output_dir, write_tree

    spec_file, out = Path(spec_file), Path(out)
    federation, warnings = read_spec(spec_file)
    made = plan(federation)
    files = tree_files(made)
    check_output_dir(out, spec_file)
    write_tree(files, out)
    unsecreted = tuple(overlay.name for overlay in made.overlays if any(
        not (out / "overlays" / overlay.name / (secret.sops_file if made.encrypted else secret.env_file)).exists()
        for secret in overlay.secrets))
    deploy = tuple(sorted({path.rpartition("/")[0] for path in files if path.startswith("deploy/")}))
    return Rendered(warnings, len(files), dict(made.clusters), deploy, unsecreted, made.encrypted)


@_bulk
def drift(spec_file: str | Path, out: str | Path) -> str:
    """The diff between `out` and a fresh render; empty when `out` is up to date."""
    from .emit.tree import tree_files
    from .emit.write import diff_tree

    return diff_tree(tree_files(plan(load(spec_file))), Path(out))


def images(federation: Federation) -> list[str]:
    """Every image reference the federation's pods use (after spec.images.registry), sorted."""
    return sorted({f"{image.new_name}:{image.new_tag}" for overlay in plan(federation).overlays
                   for image in overlay.images})


def init_secrets(out: str | Path) -> list[Path]:
    """Write random values for every secret file a rendered tree expects."""
    from .emit.secrets import init_secrets as _init

    return _init(Path(out))


def init_pki(spec_file: str | Path, days: int | None = None) -> Made:
    """`kfplug tls init`: a CA for each member whose `tls.ca` file is missing. Raises SpecError or OutputError."""
    from .emit.pki import init_pki as write_pki
    from .spec.load import read_unchecked
    from .spec.members import members

    path = Path(spec_file)
    federation = read_unchecked(path)
    extra = {"days": days} if days else {}
    return write_pki(members(federation.spec), federation.metadata.name, path.parent, **extra)


def schema() -> str:
    """The JSON Schema (draft 2020-12) of a Federation document, generated from the model, as JSON text
    (sorted keys: the same on every run). For editors; `read` stays the authority."""
    from .schema import render as render_schema

    return render_schema()


def import_kubefate(paths: list[Path], out: Path, name: str | None = None, endpoints: dict[str, str] | None = None,
                    force: bool = False) -> list[Issue]:
    """Write one spec to `out` from KubeFATE cluster.yaml files (one per party, and the exchange's);
    `endpoints` (member id or "exchange" -> host:port) adds addresses the files lack. Returns the
    warnings: every key not carried, every Secret to create. Raises SpecError (then writes nothing),
    or importers.output.OutputRefused."""
    from .importers.kubefate import import_files
    from .importers.output import check_output, write_spec

    check_output(out, paths, force)
    text, warnings = import_files(paths, name, endpoints or {}, str(out))
    write_spec(text, out)
    return warnings


def build_objects(federation: Federation, names: list[str] | None = None) -> list[dict[str, Any]]:
    """The objects `kustomize build` of the rendered overlays gives, for the selected overlays.
    Raises SpecError for an overlay that generates Secrets from files (which this build cannot read)."""
    from .emit.resources import SecretFilesNeeded, build

    try:
        return build(plan(federation), names)
    except SecretFilesNeeded as error:
        index = next(i for i, p in enumerate(federation.spec.parties) if p.id == error.overlay.name)
        raise SpecError([Issue("", 0, f"spec.parties[{index}].secrets.{s.name}",
                               "required inside kustomize: kfplug fn reads no files, so name an existing "
                               "Secret (secretName) instead of generating one")
                         for s in error.overlay.secrets]) from None


# --- inside kustomize and kpt -------------------------------------------------------------------------------

@_bulk
def generate(document: dict[str, Any], source: str, selection: object = None,
             selection_source: str = "") -> list[dict[str, Any]]:
    """The objects of a Federation handed over as data (read from `source`), for the overlays a
    FederationBuild's spec selects."""
    federation, _ = parse_object(document, source)
    return _with_source(federation, select(federation, selection, selection_source or source), source)


@_bulk
def generate_from_text(data: bytes, source: str) -> list[dict[str, Any]]:
    """The objects of every overlay of a Federation file (kustomize's legacy exec plugin)."""
    return _with_source(parse_spec(data, source)[0], None, source)


def _with_source(federation: Federation, names: list[str] | None, source: str) -> list[dict[str, Any]]:
    try:
        return build_objects(federation, names)
    except SpecError as error:
        raise SpecError([issue._replace(file=source) for issue in error.issues]) from None


def select(federation: Federation, selection: object, source: str) -> list[str] | None:
    """The overlays a FederationBuild's spec selects: `parties` (ids, `exchange`, `master`) or a
    `cluster`; None selects all. Raises SpecError."""
    from .spec.members import members

    def fail(path: str, message: str) -> SpecError:
        return SpecError([Issue(source, 0, path, message)])

    if selection is None:
        return None
    if not isinstance(selection, dict):
        raise fail("spec", "expected a mapping")
    parties, cluster = selection.get("parties"), selection.get("cluster")
    if parties is not None and cluster is not None:
        raise fail("spec", "select either parties or cluster, not both")
    everyone = {member.name: member.cluster for member in members(federation.spec)}
    if parties is not None:
        if not isinstance(parties, list):
            raise fail("spec.parties", "expected a list of party ids")
        wanted = [str(p) for p in parties]
        unknown = [p for p in wanted if p not in everyone]
        if unknown:
            raise fail("spec.parties", f"unknown party {', '.join(unknown)}")
        return wanted
    if cluster is not None:
        if not isinstance(cluster, str):
            raise fail("spec.cluster", "expected a cluster name")
        if cluster not in {c.name for c in federation.spec.clusters or ()}:
            raise fail("spec.cluster", f"unknown cluster {cluster!r}")
        return [name for name, member_cluster in everyone.items() if member_cluster == cluster]
    return None
