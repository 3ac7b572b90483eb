#!/usr/bin/env bash
# Installs what tests/app (pytest marker `app`) needs, pinned; does nothing when it is all there.
# The versions are in versions.env at the top of the repository (MARIADB_DEBIAN_VERSION; for FATE 2.0.0
# PYTHON38_VERSION, FATE_FLOW_VERSION, FATE_CLIENT_VERSION, EGGROLL_VERSION, PYFATE_VERSION, PYFATE_SHA256;
# for FATE 2.2.0 the same with PYTHON310_ and FATE220_):
#   - Debian's MariaDB server and client (the mysql pods' stand-in), and the packages below it needs;
#   - FATE 2.0.0: a Python 3.8 venv, .venv-fate200 (git-ignored), with fate-flow, fate-client and eggroll[full]
#     and every dependency as pinned in tests/app/constraints-py38.txt;
#   - FATE 2.2.0: a Python 3.10 venv, .venv-fate220 (git-ignored), with fate-flow, eggroll (PyPI has no
#     eggroll of the 2.2.0 line: tests/app/images.py says what stands in and why) and fate-client without
#     torch, every package as pinned in tests/app/constraints-py310.txt;
#   - each release's pyfate wheel (FATE's `fate` package, unpacked into the image tree by the tests,
#     without its dependencies such as torch), checked against its sha256.
# Needs root (apt-get; the tests use network, mount and PID namespaces), Python 3.8 and Python 3.10
# (KFPLUG_PYTHON38, KFPLUG_PYTHON310; default the pyenv builds of PYTHON38_VERSION and PYTHON310_VERSION of
# this machine kind). Exits non-zero with the reason when something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../../versions.env
. ./versions.env

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

# --- the Python environments ------------------------------------------------------------
# PIP_CONSTRAINT also pins setuptools and wheel in the isolated environments that build sdists
export PIP_DISABLE_PIP_VERSION_CHECK=1

# fate_venv VENV PYTHON X.Y CONSTRAINTS PYFATE_VERSION PYFATE_SHA256 WHY: a new venv when its mark differs
# from its constraints file; then `install_packages` (set by the caller) into it, checks, and the pyfate wheel.
fate_venv() {
  local venv=$1 python=$2 minor=$3 constraints=$4 pyfate_version=$5 pyfate_sha256=$6 why=$7
  local mark="$venv/.kfplug-app-installed" wheel="pyfate-$5-py3-none-any.whl"
  if [ -f "$mark" ] && cmp -s "$mark" "$constraints" && [ -f "$venv/wheels/$wheel" ]; then
    return 0
  fi
  [ -x "$python" ] || die "Python $minor not found at $python: $why"
  "$python" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$minor'.split('.'))))" \
    || die "$python is not Python $minor"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "could not create the venv $venv"
  PIP_CONSTRAINT="$constraints" install_packages "$venv" || die "pip install into $venv failed"
  local report problems
  if ! report=$("$venv/bin/pip" check); then
    problems=$(printf '%s\n' "$report" | grep -vxFf <(printf '%s\n' "${ALLOWED_MISSING[@]}") || true)
    [ -z "$problems" ] || die "the requirements of $venv are inconsistent: $problems"
  fi
  unpinned=$("$venv/bin/pip" freeze | grep -vixFf <(grep -v '^#' "$constraints") || true)
  [ -z "$unpinned" ] || die "installed but not pinned in ${constraints#"$PWD/"}: $unpinned"
  mkdir -p "$venv/wheels"
  PIP_CONSTRAINT="$constraints" "$venv/bin/pip" download --quiet --no-cache-dir --no-deps "pyfate==$pyfate_version" \
    -d "$venv/wheels" || die "pip download pyfate==$pyfate_version failed"
  echo "$pyfate_sha256  $venv/wheels/$wheel" | sha256sum -c --quiet - || die "$wheel does not have the pinned sha256"
  cp "$constraints" "$mark"
}

# FATE 2.0.0
install_packages() {
  "$1/bin/pip" install --quiet --no-cache-dir "fate-flow==$FATE_FLOW_VERSION" "fate-client==$FATE_CLIENT_VERSION" \
    "eggroll[full]==$EGGROLL_VERSION"
}
ALLOWED_MISSING=()
fate_venv "${KFPLUG_FATE_VENV:-$PWD/.venv-fate200}" \
  "${KFPLUG_PYTHON38:-/root/.pyenv/versions/$PYTHON38_VERSION/bin/python3.8}" 3.8 "$PWD/tests/app/constraints-py38.txt" \
  "$PYFATE_VERSION" "$PYFATE_SHA256" "set KFPLUG_PYTHON38: FATE 2.0.0 runs on 3.8, eggroll's Python fails on 3.11"

# FATE 2.2.0. eggroll's `full` packages as FATE 2.2.0 pins them (lmdb 1.4.1, where eggroll[full] 3.0.0 says
# 1.3.0); fate-client without torch, transformers and accelerate, which only its nn pipeline components import
# (the images install torch 2.3.1+cpu from outside PyPI): its other requirements are listed here.
install_packages() {
  "$1/bin/pip" install --quiet --no-cache-dir "fate-flow==$FATE220_FATE_FLOW_VERSION" \
    "eggroll==$FATE220_EGGROLL_VERSION" cloudpickle lmdb psutil \
    click pandas requests requests-toolbelt ruamel.yaml setuptools wheel networkx pydantic \
  && "$1/bin/pip" install --quiet --no-cache-dir --no-deps "fate-client==$FATE220_FATE_CLIENT_VERSION"
}
ALLOWED_MISSING=("fate-client $FATE220_FATE_CLIENT_VERSION requires accelerate, which is not installed."
                 "fate-client $FATE220_FATE_CLIENT_VERSION requires torch, which is not installed."
                 "fate-client $FATE220_FATE_CLIENT_VERSION requires transformers, which is not installed.")
fate_venv "${KFPLUG_FATE220_VENV:-$PWD/.venv-fate220}" \
  "${KFPLUG_PYTHON310:-/root/.pyenv/versions/$PYTHON310_VERSION/bin/python3.10}" 3.10 "$PWD/tests/app/constraints-py310.txt" \
  "$FATE220_PYFATE_VERSION" "$FATE220_PYFATE_SHA256" "set KFPLUG_PYTHON310: FATE 2.2.0 runs on 3.10 (its images' Python)"
