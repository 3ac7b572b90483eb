"""Install kfplug as a kustomize legacy exec generator (`kubectl kustomize --enable-alpha-plugins`)."""

from __future__ import annotations

import os
import shlex
import sys

GROUP = "kfplug.dev/v1alpha1"


def plugin_home() -> str:
    """Where kustomize looks for legacy plugins, in its own order of preference."""
    if os.environ.get("KUSTOMIZE_PLUGIN_HOME"):
        return os.environ["KUSTOMIZE_PLUGIN_HOME"]
    if os.environ.get("XDG_CONFIG_HOME"):
        return os.path.join(os.environ["XDG_CONFIG_HOME"], "kustomize", "plugin")
    return os.path.join(os.path.expanduser("~"), ".config", "kustomize", "plugin")


def install_plugin(home: str | None = None) -> str:
    """Write the legacy exec plugin `<home>/kfplug.dev/v1alpha1/federation/Federation`."""
    directory = os.path.join(home or plugin_home(), GROUP, "federation")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "Federation")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"#!/bin/sh\n# kfplug as a kustomize legacy exec generator\n"
                     f"exec {shlex.quote(sys.executable)} -m kfplug.krm \"$@\"\n")
    os.chmod(path, 0o755)
    return path
