"""`kfplug` command line: parse options, call the api, print. No logic here."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from . import __version__, api
from .diagnostics import Issue, SpecError


def _fail(error: Exception) -> None:
    if isinstance(error, SpecError):
        for issue in error.issues:
            click.echo(str(issue), err=True)
        count = len(error.issues)
        click.echo(f"{count} error{'s' if count != 1 else ''}", err=True)
        sys.exit(1)
    click.echo(f"error: {error}", err=True)
    sys.exit(2)


def _warn(found: list[Issue]) -> None:
    for issue in found:
        click.echo(str(issue), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kfplug")
def main() -> None:
    """Compile a FederationSpec into per-party kustomize trees."""


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the tree into (created or replaced atomically).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff when OUTPUT is out of date.")
def render(spec: Path, out: Path, check: bool) -> None:
    """Render SPEC into OUTPUT/bases, OUTPUT/overlays/<party> and OUTPUT/clusters/<cluster>."""
    from .emit.write import OutputError  # the writer loads only to write

    try:
        if check:
            diff = api.drift(spec, out)
            if diff:
                click.echo(diff, nl=False)
                click.echo(f"{out} is out of date; run: kfplug render {spec} -o {out}", err=True)
                sys.exit(1)
            return
        rendered = api.render_tree(spec, out)
    except (SpecError, OutputError) as error:
        _fail(error)
    _warn(rendered.warnings)
    _summary(out, rendered)


GITOPS = {"flux": "Flux", "argocd": "Argo CD"}  # deploy/<tool>: whose objects


def _summary(out: Path, rendered: api.Rendered) -> None:
    """What render wrote (stdout), then the next steps (stderr, with the warnings)."""
    count = sum(len(names) for names in rendered.clusters.values())
    where = "; ".join(f"cluster {cluster}: {', '.join(names)}" for cluster, names in rendered.clusters.items())
    click.echo(f"wrote {out}: {rendered.files} files, {count} overlay{'s' if count != 1 else ''} ({where})")
    tree = shlex.quote(str(out))
    step = "next:"
    if rendered.unsecreted:
        how = ", encrypted with sops" if rendered.encrypted else ""
        click.echo(f"next: kfplug secrets init {tree}    # random values for the Secrets of "
                   f"{', '.join(rendered.unsecreted)}{how}; kustomize build fails without them", err=True)
        step = "then:"
    click.echo(f"{step} in each cluster:" if len(rendered.clusters) > 1 else step, err=True)
    for cluster, names in rendered.clusters.items():
        click.echo(f"  kustomize build {tree}/clusters/{cluster} | kubectl apply -f -    # {', '.join(names)}",
                   err=True)
    click.echo(f"  (one overlay: kustomize build {tree}/overlays/<name> | kubectl apply -f -)", err=True)
    for tool in sorted({directory.split("/")[1] for directory in rendered.deploy}):
        click.echo(f"  or commit the tree and point each cluster's {GITOPS.get(tool, tool)} at "
                   f"{tree}/deploy/{tool}/<cluster> (docs/gitops.md)", err=True)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
def validate(spec: Path) -> None:
    """Check SPEC and report every problem."""
    try:
        _warn(api.read(spec)[1])
    except SpecError as error:
        _fail(error)
    click.echo(f"{spec}: ok")


@main.command()
def schema() -> None:
    """Print the FederationSpec's JSON Schema, for editors (`validate` stays the authority)."""
    click.echo(api.schema(), nl=False)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def fn(args: tuple[str, ...]) -> None:
    """Run as a KRM function (ResourceList on stdin) or a legacy exec plugin (config path argument)."""
    from . import krm

    sys.exit(krm.run(list(args)))


@main.group()
def secrets() -> None:
    """Manage the git-ignored secret files of a rendered tree."""


@secrets.command("init")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
def secrets_init(directory: Path) -> None:
    """Create DIRECTORY/overlays/*/secrets/*.env with random values where missing (mode 0600); for a tree
    that keeps its Secrets in Git (spec.gitops.sops), *.sops.yaml encrypted with sops instead, and an existing
    one encrypted again where its recipients differ from its overlay's rule in .sops.yaml."""
    from .emit.secrets import SecretsError
    from .emit.write import OutputError

    problems: list[str] = []
    try:
        written = api.init_secrets(directory)
    except SecretsError as error:  # the files it could write are written: say which, then what failed
        written, problems = error.written, error.problems
    except OutputError as error:
        _fail(error)
    for path in written:
        click.echo(f"wrote {path}")
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(2)


@main.group()
def tls() -> None:
    """Certificates for the trust between parties (spec.tls)."""


@tls.command("init")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--days", type=click.IntRange(1, 36500), default=None, help="How long each CA is valid (default 1095).")
def tls_init(spec: Path, days: int | None) -> None:
    """A test PKI: for each member whose tls.ca file is missing, a CA of its own. Writes the certificate
    there and the CA's key pair beside it as the kfplug-ca Secret (NAME.secret.yaml, mode 0600,
    git-ignored), which that party alone applies in its namespace. Existing files are kept."""
    from .emit.write import OutputError

    try:
        made = api.init_pki(spec, days)
    except (SpecError, OutputError) as error:
        _fail(error)
    for path in made.written:
        click.echo(f"wrote {path}")
    if made.applies:
        click.echo("next: each party applies its own CA key pair in its namespace, and no other party ever "
                   "sees it:", err=True)
        for namespace, path in made.applies:
            click.echo(f"  kubectl -n {namespace} apply -f {path}", err=True)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
def images(spec: Path) -> None:
    """Print every image SPEC's federation pulls, one per line (to mirror a registry before an offline install)."""
    try:
        federation, _ = api.read(spec)
    except SpecError as error:
        _fail(error)
    for image in api.images(federation):
        click.echo(image)


@main.command("install-plugin")
@click.option("--plugin-home", type=click.Path(file_okay=False), default=None,
              help="Default: $KUSTOMIZE_PLUGIN_HOME, else $XDG_CONFIG_HOME/kustomize/plugin, "
                   "else ~/.config/kustomize/plugin.")
def install_plugin(plugin_home: str | None) -> None:
    """Install kfplug as a legacy exec generator for `kubectl kustomize --enable-alpha-plugins`."""
    from .plugin import install_plugin as install

    click.echo(f"installed {install(plugin_home)}")


@main.group("import")
def import_() -> None:
    """Write a FederationSpec from another tool's deployment files."""


def _endpoints(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    pairs = [value.partition("=") for value in values]
    for value, (key, sep, address) in zip(values, pairs, strict=True):
        if not (key and sep and address):
            raise click.BadParameter(f"{value!r}: expected ID=HOST:PORT (a party id, or exchange)")
    return {key: address for key, _, address in pairs}


@import_.command("kubefate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The spec file to write.")
@click.option("--name", help="The federation's metadata.name (default: fate).")
@click.option("--endpoint", "endpoints", multiple=True, callback=_endpoints, metavar="ID=HOST:PORT",
              help="A member's address where no cluster.yaml's route entries give it (ID: a party id, or exchange).")
@click.option("--force", is_flag=True, help="Replace OUTPUT when it exists.")
def import_kubefate(files: tuple[Path, ...], out: Path, name: str | None, endpoints: dict[str, str],
                    force: bool) -> None:
    """Write OUTPUT from KubeFATE cluster.yaml FILES (one per party, and the exchange's). Passwords become
    Secret references; every key not carried is reported (docs/migration.md)."""
    from .importers.output import OutputRefused

    try:
        _warn(api.import_kubefate(list(files), out, name, endpoints, force))
    except (SpecError, OutputRefused) as error:
        _fail(error)
    click.echo(f"wrote {out}")
