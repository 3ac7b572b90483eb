"""`kfplug secrets init`: fill each overlay's Secrets with random values.

The rendered tree lists the keys in `secrets/<name>.env.example`; this writes
`secrets/<name>.env` (mode 0600, git-ignored) where it does not exist yet. When the
tree keeps its Secrets in Git (a `.sops.yaml` at its root, from `spec.gitops.sops`),
it writes `secrets/<name>.sops.yaml` instead: a Secret manifest that `sops` encrypts
for its overlay's age recipients (its rule in `.sops.yaml`), from standard input, so no
plaintext touches the disk. An existing `*.sops.yaml` whose recipients differ from its
rule's is decrypted into memory and encrypted again under the rule, with a new data key,
so nothing stays readable by a key the spec no longer names.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import string
import subprocess
import tempfile
from pathlib import Path

import yaml

from ..plan import NAME
from ..yamlwrite import dump
from .write import OutputError, has_link

SOPS_CONFIG = ".sops.yaml"

ALPHABET = string.ascii_letters + string.digits  # safe inside config files and sed


def random_value(length: int = 32) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def notebook_hash(password: str) -> str:
    """Jupyter's salted sha1 password hash (`sha1:<salt>:<digest>`)."""
    salt = secrets.token_hex(6)
    return f"sha1:{salt}:{hashlib.sha1((password + salt).encode()).hexdigest()}"


class SecretsError(OutputError):
    """Some files could not be written; the others were (`written`)."""

    def __init__(self, problems: list[str], written: list[Path]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.written = written


def init_secrets(out: Path) -> list[Path]:
    """Create the missing secret files under `out` and re-encrypt the SOPS files whose recipients changed;
    returns the files written. Raises SecretsError, after doing everything else, for the files it could not
    re-encrypt.

    Nothing is read or written through a symbolic link inside `out`."""
    written: list[Path] = []
    problems: list[str] = []
    config = out / SOPS_CONFIG
    encrypted = config.is_file() and not has_link(out, config)
    rules = _rules(config) if encrypted else []
    for example in sorted(out.glob("overlays/*/secrets/*.env.example")):
        name = example.name.removesuffix(".env.example")
        target = example.with_name(f"{name}.sops.yaml" if encrypted else f"{name}.env")
        if has_link(out, example) or not example.is_file() or target.is_symlink():
            continue
        if target.exists():
            if encrypted and target.is_file():
                try:
                    if _reencrypt(out, target, rules):
                        written.append(target)
                except _Unreadable as problem:
                    problems.append(str(problem))
            continue
        lines = example.read_text().splitlines()
        keys = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
        labels = dict(line[2:].split("=", 1) for line in lines if line.startswith(f"# {NAME}="))
        values, extra = _values(keys)
        if encrypted:
            _write_private(target, _encrypt(out, target, _secret_manifest(name, labels, values)))
        else:
            _write_private(target, "".join(f"{key}={value}\n" for key, value in values.items()))
        written.append(target)
        for suffix, text in extra.items():
            path = target.with_name(name + suffix)
            if not (path.exists() or path.is_symlink()):
                _write_private(path, text)
                written.append(path)
    if problems:
        raise SecretsError(problems, written)
    return written


Rule = tuple["re.Pattern[str]", frozenset[str]]


def _rules(config: Path) -> list[Rule]:
    """The creation rules of the tree's .sops.yaml (which render writes): path_regex and age recipients."""
    try:
        data = yaml.safe_load(config.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise OutputError(f"cannot read {config}: {error}") from None
    rules = data.get("creation_rules") if isinstance(data, dict) else None
    return [(re.compile(str(rule["path_regex"])), _recipients(rule.get("age")))
            for rule in rules or () if isinstance(rule, dict) and "path_regex" in rule]


def _recipients(age: object) -> frozenset[str]:
    """A rule's age recipients: one comma-separated string (as render writes it) or a list."""
    items = age if isinstance(age, list) else str(age or "").split(",")
    return frozenset(str(r).strip() for r in items if str(r).strip())


class _Unreadable(Exception):
    """A SOPS file that cannot be re-encrypted here; the message says why and what would."""


def _reencrypt(out: Path, target: Path, rules: list[Rule]) -> bool:
    """Encrypt `target` again under its rule when its recipients differ from the rule's: decrypted into
    memory, encrypted from standard input (a new data key), written atomically. False: nothing to do (no
    rule, or the same recipients)."""
    relative = target.relative_to(out).as_posix()
    wanted = next((recipients for pattern, recipients in rules if pattern.search(relative)), None)
    if wanted is None:
        return False
    try:
        metadata = yaml.safe_load(target.read_text()).get("sops")
        present = frozenset(str(entry["recipient"]) for entry in metadata.get("age") or ())
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
        raise _Unreadable(f"{relative} has no sops metadata, so it may hold plaintext: encrypt it (in the tree's "
                          f"root: sops --encrypt --in-place {relative}), or remove it and run secrets init again "
                          f"for new values") from None
    if present == wanted:
        return False
    sops = _sops()
    result = subprocess.run([sops, "--decrypt", "--input-type", "yaml", "--output-type", "yaml", relative],
                            capture_output=True, text=True, cwd=out, check=False)
    if result.returncode != 0:
        holders = ", ".join(sorted(present)) or "none"
        overlay = relative.split("/")[1]
        raise _Unreadable(f"{relative}: its recipients changed, and sops could not decrypt it to encrypt it again "
                          f"({_first_line(result.stderr)}): run secrets init with the age key of someone who "
                          f"reads overlay {overlay}'s Secrets today, one of its current recipients ({holders}), "
                          f"in SOPS_AGE_KEY_FILE; the file is unchanged")
    _replace_private(target, _encrypt(out, target, result.stdout))
    return True


def _first_line(text: str) -> str:
    return next((line.strip().rstrip(".") for line in text.splitlines() if line.strip()), "no message")


def _values(keys: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    values, extra = {}, {}
    for key in keys:
        if key == "username":
            values[key] = "admin"
        elif key.endswith("hashed-password"):
            password = random_value()
            values[key] = notebook_hash(password)
            extra[".password"] = password + "\n"  # the plain password the user types in
        else:
            values[key] = random_value()
    return values, extra


def _secret_manifest(name: str, labels: dict[str, str], values: dict[str, str]) -> str:
    metadata: dict[str, object] = {"name": name, **({"labels": labels} if labels else {})}
    return dump({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "stringData": values})


def _encrypt(out: Path, target: Path, manifest: str) -> str:
    """`manifest` encrypted by sops under the tree's .sops.yaml rules (its data only)."""
    relative = target.relative_to(out).as_posix()
    result = subprocess.run([_sops(), "--config", SOPS_CONFIG, "--encrypt", "--filename-override", relative,
                             "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"],
                            input=manifest, capture_output=True, text=True, cwd=out, check=False)
    if result.returncode != 0 or "sops:" not in result.stdout:
        raise OutputError(f"sops could not encrypt {relative}: {result.stderr.strip()}")
    return result.stdout


def _sops() -> str:
    sops = os.environ.get("KFPLUG_SOPS") or shutil.which("sops")
    if sops is None:
        raise OutputError("sops is not installed (or set KFPLUG_SOPS to its path): the tree keeps its Secrets "
                          "in Git, encrypted with SOPS")
    return sops


def _replace_private(path: Path, text: str) -> None:
    """`path` replaced at once by `text` (mode 0600): written beside it, then renamed over it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
