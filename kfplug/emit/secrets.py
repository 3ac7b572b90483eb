"""`kfplug secrets init`: fill each overlay's Secrets with random values.

The rendered tree lists the keys in `secrets/<name>.env.example`; this writes
`secrets/<name>.env` (mode 0600, git-ignored) where it does not exist yet. When the
tree keeps its Secrets in Git (a `.sops.yaml` at its root, from `spec.gitops.sops`),
it writes `secrets/<name>.sops.yaml` instead: a Secret manifest that `sops` encrypts
for the tree's age recipients, from standard input, so no plaintext touches the disk.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import string
import subprocess
from pathlib import Path

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


def init_secrets(out: Path) -> list[Path]:
    """Create the missing secret files under `out`; returns the files written.

    Nothing is read or written through a symbolic link inside `out`."""
    written = []
    config = out / SOPS_CONFIG
    encrypted = config.is_file() and not has_link(out, config)
    for example in sorted(out.glob("overlays/*/secrets/*.env.example")):
        name = example.name.removesuffix(".env.example")
        target = example.with_name(f"{name}.sops.yaml" if encrypted else f"{name}.env")
        if has_link(out, example) or not example.is_file() or target.exists() or target.is_symlink():
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
    return written


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
    sops = os.environ.get("KFPLUG_SOPS") or shutil.which("sops")
    if sops is None:
        raise OutputError("sops is not installed (or set KFPLUG_SOPS to its path): the tree keeps its Secrets "
                          "in Git, encrypted with SOPS")
    relative = target.relative_to(out).as_posix()
    result = subprocess.run([sops, "--config", SOPS_CONFIG, "--encrypt", "--filename-override", relative,
                             "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"],
                            input=manifest, capture_output=True, text=True, cwd=out, check=False)
    if result.returncode != 0 or "sops:" not in result.stdout:
        raise OutputError(f"sops could not encrypt {relative}: {result.stderr.strip()}")
    return result.stdout


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
