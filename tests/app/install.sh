#!/usr/bin/env bash
# Installs what tests/app (pytest marker `app`) needs, pinned; does nothing when it is all there.
# The versions are in versions.env at the top of the repository (MARIADB_DEBIAN_VERSION, PYTHON38_VERSION,
# FATE_FLOW_VERSION, FATE_CLIENT_VERSION, EGGROLL_VERSION, PYFATE_VERSION, PYFATE_SHA256):
#   - Debian's MariaDB server and client (the mysql pods' stand-in), and the packages below it needs;
#   - a Python 3.8 venv, .venv-fate200 (git-ignored), with fate-flow, fate-client and eggroll[full]
#     and every dependency as pinned in tests/app/constraints-py38.txt;
#   - the pyfate wheel (FATE's `fate` package, unpacked into the image tree by the tests,
#     without its dependencies such as torch), checked against its sha256.
# Needs root (apt-get; the tests use network, mount and PID namespaces) and Python 3.8
# (KFPLUG_PYTHON38, default the pyenv build of PYTHON38_VERSION of this machine kind).
# Exits non-zero with the reason when something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../../versions.env
. ./versions.env

VENV="${KFPLUG_FATE_VENV:-$PWD/.venv-fate200}"
PYTHON38="${KFPLUG_PYTHON38:-/root/.pyenv/versions/$PYTHON38_VERSION/bin/python3.8}"
CONSTRAINTS="$PWD/tests/app/constraints-py38.txt"
MARK="$VENV/.kfplug-app-installed"
PYFATE_WHEEL=pyfate-$PYFATE_VERSION-py3-none-any.whl
DEBIAN_PACKAGES=(
  mariadb-server-core="$MARIADB_DEBIAN_VERSION"
  mariadb-client-core="$MARIADB_DEBIAN_VERSION"
  mariadb-client="$MARIADB_DEBIAN_VERSION"
  mariadb-common="$MARIADB_DEBIAN_VERSION"
  libmariadb3="$MARIADB_DEBIAN_VERSION"
  mysql-common=5.8+1.1.0
  libaio1=0.3.113-4
  liburing2=2.3-3
  libconfig-inifiles-perl=3.000003-2+deb12u1
  iproute2=6.1.0-3
)

die() { echo "tests/app/install.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run it as root: it installs Debian packages, and the app tests need network, mount and PID namespaces"

# --- Debian packages -----------------------------------------------------------------------
missing=()
for spec in "${DEBIAN_PACKAGES[@]}"; do
  package=${spec%%=*} version=${spec#*=}
  installed=$(dpkg-query -W -f='${Status} ${Version}' "$package" 2>/dev/null || true)
  [ "$installed" = "install ok installed $version" ] || missing+=("$spec")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not found: the app tests need Debian's packages (${missing[*]})"
  apt-get update -qq || die "apt-get update failed"
  for spec in "${missing[@]}"; do
    package=${spec%%=*} version=${spec#*=}
    apt-cache madison "$package" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$version" \
      || die "Debian no longer offers $package $version (apt-cache madison $package); update the pin in versions.env or tests/app/install.sh"
  done
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi
for program in mariadbd mariadb-install-db mariadb mariadb-admin mysqladmin ip unshare setpriv chroot; do
  command -v "$program" >/dev/null || die "$program not found after installing the Debian packages"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || grep -qw overlay /proc/filesystems \
  || die "the kernel has no overlayfs (the app tests build each container's root filesystem with it)"

# --- the Python 3.8 environment ------------------------------------------------------------
if [ -f "$MARK" ] && cmp -s "$MARK" "$CONSTRAINTS" && [ -f "$VENV/wheels/$PYFATE_WHEEL" ]; then
  exit 0
fi
[ -x "$PYTHON38" ] || die "Python 3.8 not found at $PYTHON38 (set KFPLUG_PYTHON38): FATE 2.0.0 runs on 3.8, eggroll's Python fails on 3.11"
"$PYTHON38" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 8))' || die "$PYTHON38 is not Python 3.8"
rm -rf "$VENV"
"$PYTHON38" -m venv "$VENV" || die "could not create the venv $VENV"
# PIP_CONSTRAINT also pins setuptools and wheel in the isolated environments that build sdists
export PIP_CONSTRAINT="$CONSTRAINTS" PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/pip" install --quiet --no-cache-dir "fate-flow==$FATE_FLOW_VERSION" "fate-client==$FATE_CLIENT_VERSION" \
  "eggroll[full]==$EGGROLL_VERSION" \
  || die "pip install into $VENV failed"
"$VENV/bin/pip" check || die "the venv's requirements are inconsistent"
unpinned=$("$VENV/bin/pip" freeze | grep -vixFf <(grep -v '^#' "$CONSTRAINTS") || true)
[ -z "$unpinned" ] || die "installed but not pinned in tests/app/constraints-py38.txt: $unpinned"
mkdir -p "$VENV/wheels"
"$VENV/bin/pip" download --quiet --no-cache-dir --no-deps "pyfate==$PYFATE_VERSION" -d "$VENV/wheels" \
  || die "pip download pyfate==$PYFATE_VERSION failed"
echo "$PYFATE_SHA256  $VENV/wheels/$PYFATE_WHEEL" | sha256sum -c --quiet - || die "$PYFATE_WHEEL does not have the pinned sha256"
cp "$CONSTRAINTS" "$MARK"
