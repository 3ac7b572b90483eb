#!/usr/bin/env bash
# The control plane the end-to-end tests run (tests/e2e/apiserver.sh), each piece only when
# missing or not the pinned version:
#   bin/kube-apiserver, bin/kube-controller-manager, built from k8s.io/kubernetes as pinned in go.mod
#   bin/kube-scheduler                               (which must be versions.env's KUBERNETES_VERSION)
#   bin/kwok                                         KWOK's controller (simulated nodes and their pods),
#                                                    go install sigs.k8s.io/kwok/cmd/kwok@KWOK_VERSION
#   etcd                                             Debian's etcd-server package (versions.env's
#                                                    ETCD_DEBIAN_VERSION) when no etcd is on PATH
# Prints how long each step took. `tools/k8s/build.sh --force` rebuilds the Kubernetes binaries and kwok.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../../versions.env
. ../../versions.env
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly

timed() {  # timed WHAT COMMAND...: run COMMAND, report its wall time
    local what=$1 start=$SECONDS
    shift
    echo "$what ..."
    "$@"
    echo "$what took $((SECONDS - start))s"
}

# Stamp the version as Kubernetes' release build does (hack/lib/version.sh), so `--version` and
# GET /version report it; the date is the tag's, so the build is reproducible. The module proxy
# knows no commit id, so gitCommit stays empty.
read -r version date < <(go list -m -f '{{.Version}} {{.Time.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
[[ $version == "$KUBERNETES_VERSION" ]] ||
    { echo "build.sh: tools/k8s/go.mod pins k8s.io/kubernetes $version, versions.env KUBERNETES_VERSION=$KUBERNETES_VERSION; make them agree" >&2; exit 1; }
IFS=. read -r major minor _ <<<"${version#v}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit="
done

pinned() { [[ -x bin/$1 && $(bin/"$1" --version) == "Kubernetes $version" ]]; }
commands=(kube-apiserver kube-controller-manager kube-scheduler)
for command in "${commands[@]}"; do
    if [[ ${1:-} == --force ]] || ! pinned "$command"; then
        timed "building ${commands[*]} $version" \
            go build -trimpath -ldflags "$ldflags" -o bin/ "${commands[@]/#/k8s.io/kubernetes/cmd/}"
        break
    fi
done

# KWOK's own go.mod pins its dependencies (v0.7.0: client-go v0.33, as the control plane); its
# version constant is the release's, so `kwok --version` names it (and the Go that built it)
if [[ ${1:-} == --force ]] || [[ ! -x bin/kwok ]] || [[ $(bin/kwok --version) != "kwok version $KWOK_VERSION "* ]]; then
    timed "installing kwok $KWOK_VERSION" env GOBIN="$PWD/bin" GOFLAGS= go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
fi

if ! command -v etcd >/dev/null; then
    sudo=$( ((EUID == 0)) || echo "sudo -n")
    install_etcd() {
        $sudo apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "etcd-server=$ETCD_DEBIAN_VERSION" >/dev/null
    }
    # without etcd the e2e tests skip on a developer's machine, and fail in CI
    timed "installing etcd (apt-get install etcd-server=$ETCD_DEBIAN_VERSION)" install_etcd ||
        { echo "build.sh: could not install etcd; put etcd 3.4.22+ or 3.5 on PATH" >&2; [[ -z ${CI:-} ]] || exit 1; exit 0; }
fi
echo "kube-apiserver $(bin/kube-apiserver --version), etcd $(etcd --version | sed -n 's/^etcd Version: //p')"
