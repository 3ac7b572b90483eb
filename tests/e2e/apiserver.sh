#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, for the end-to-end tests and by hand:
#
#   tests/e2e/apiserver.sh start [DIR]  etcd, kube-apiserver, kube-controller-manager, kube-scheduler
#                                       and KWOK's controller on free 127.0.0.1 ports, state in DIR
#                                       (default: a new temp dir); waits until ready and prints
#                                       `export KUBECONFIG=DIR/kubeconfig`
#   tests/e2e/apiserver.sh stop [DIR]   ends exactly the processes started in DIR and removes DIR
#                                       (default DIR: the directory of $KUBECONFIG)
#
# There are no nodes: Pods stay Pending. A Node annotated kwok.x-k8s.io/node=fake is simulated by
# KWOK: it turns Ready, and the pods bound to it Running and Ready (nothing runs; no kubelet). Binaries
# come from $KFPLUG_K8S_BIN (default tools/k8s/bin, built by tools/k8s/build.sh); etcd also from PATH. kubectl authenticates
# with a static token as a member of system:masters.
set -Eeuo pipefail
BIN=${KFPLUG_K8S_BIN:-$(cd "$(dirname "$0")/../../tools/k8s" && pwd)/bin}
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)  # start order; stop is the reverse

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

launch() {  # launch NAME COMMAND...: run in the background, log to DIR/NAME.log, record the pid
    local name=$1
    shift
    "$@" </dev/null >"$dir/$name.log" 2>&1 &
    echo "$!" >"$dir/$name.pid"
}

ready() {  # ready NAME SECONDS COMMAND...: wait until COMMAND succeeds, as long as NAME runs
    local name=$1 seconds=$2
    local deadline=$((SECONDS + seconds))
    shift 2
    until "$@" >/dev/null 2>&1; do
        ! exited "$(cat "$dir/$name.pid")" || { echo "apiserver.sh: $name exited" >&2; return 1; }
        ((SECONDS < deadline)) || { echo "apiserver.sh: $name not ready after ${seconds}s" >&2; return 1; }
        sleep 0.5
    done
}

exited() {  # a zombie has exited too: whoever inherited it may never reap it
    ! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1") == Z* ]]
}

certificates() {  # a CA, a serving certificate for 127.0.0.1 signed by it, a service-account key
    local pki=$dir/pki
    mkdir -p "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kfplug-e2e-ca \
        -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
        -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
    openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -days 2 \
        -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n') \
        -out "$pki/apiserver.crt" 2>/dev/null
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

kubeconfig() {  # kubeconfig PORT TOKEN
    cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "https://127.0.0.1:$1", certificate-authority: "$dir/pki/ca.crt"}
users:
- name: admin
  user: {token: "$2"}
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
EOF
}

start() {
    dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/kfplug-apiserver.XXXXXX")}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [[ -z $(ls -A "$dir") ]] || { echo "apiserver.sh: $dir is not empty" >&2; exit 2; }
    local etcd=$BIN/etcd
    [[ -x $etcd ]] || etcd=$(command -v etcd) || { echo "apiserver.sh: no etcd (run tools/k8s/build.sh)" >&2; exit 2; }
    trap 'echo "apiserver.sh: start failed; the logs:" >&2; tail -n 20 "$dir"/*.log >&2; stop "$dir"' ERR

    certificates
    local token client peer secure
    token=$(openssl rand -hex 16)
    echo "$token,admin,admin,system:masters" >"$dir/tokens.csv"
    client=$(free_port) peer=$(free_port) secure=$(free_port)
    kubeconfig "$secure" "$token"

    launch etcd "$etcd" --name e2e --data-dir "$dir/etcd" \
        --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
        --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "e2e=http://127.0.0.1:$peer"
    launch kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$client" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$secure" \
        --cert-dir "$dir/pki" --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
        --client-ca-file "$dir/pki/ca.crt" --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC \
        --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$dir/pki/sa.pub" \
        --service-account-signing-key-file "$dir/pki/sa.key" --service-cluster-ip-range 10.96.0.0/16 \
        --enable-admission-plugins NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,PodSecurity,ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy \
        --allow-privileged=true --profiling=false
    ready kube-apiserver 120 kubectl --kubeconfig "$dir/kubeconfig" get --raw /readyz
    launch kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$dir/kubeconfig" \
        --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
        --leader-elect=false --secure-port 0 --profiling=false
    # the service-account controller creating `default` shows the controllers are running
    ready kube-controller-manager 60 kubectl --kubeconfig "$dir/kubeconfig" get serviceaccount default
    launch kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$dir/kubeconfig" \
        --leader-elect=false --secure-port 0 --profiling=false
    ready kube-scheduler 60 grep -q "Starting Kubernetes Scheduler" "$dir/kube-scheduler.log"
    # only the nodes a test marks as fake, with KWOK's default stages; its config path is DIR's (empty) so
    # no ~/.kwok/kwok.yaml applies; pod IPs from a /16, enough for every example's pods
    : >"$dir/kwok.yaml"
    launch kwok "$BIN/kwok" --kubeconfig "$dir/kubeconfig" --config "$dir/kwok.yaml" \
        --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
        --cidr 10.244.0.1/16 --node-ip 10.240.0.1
    ready kwok 60 grep -q "Watch nodes" "$dir/kwok.log"
    trap - ERR
    echo "export KUBECONFIG=$dir/kubeconfig"
}

stop() {
    dir=${1:-$(dirname "${KUBECONFIG:?stop needs DIR or KUBECONFIG}")}
    [[ -f $dir/etcd.pid ]] || { echo "apiserver.sh: $dir was not made by apiserver.sh start" >&2; exit 2; }
    local name pid i
    for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
        name=${COMPONENTS[i]}
        pid=$(cat "$dir/$name.pid" 2>/dev/null) || continue
        # only our own process: its command line names this directory
        grep -qaF "$dir" "/proc/$pid/cmdline" 2>/dev/null || continue
        kill "$pid"
        for _ in {1..60}; do exited "$pid" && break || sleep 0.5; done
        exited "$pid" || kill -KILL "$pid"
    done
    rm -rf "$dir"
}

case ${1:-} in
start) start "${2:-}" ;;
stop) stop "${2:-}" ;;
*) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
