#!/usr/bin/env bash
# Brings up a single-node Kubernetes with Tekton Pipelines on this machine,
# from Debian's packages and Go modules only (no download site, no image
# registry), for Dracon's cluster-mode tests:
#   scripts/cluster/up.sh      prints the admin kubeconfig's path last
#   scripts/cluster/down.sh    stops it
# etcd (Debian), kube-apiserver, kube-controller-manager, kube-scheduler and
# the kubelet (built by build-kubernetes.sh), containerd with the CNI bridge
# (Debian), and Tekton's controller (build-tekton.sh) run as processes of
# this machine; every image a pod runs is built here and imported into
# containerd. Built binaries and images are cached by version outside the
# clone, so only a machine's first run pays for them. The cluster's own
# state is made new on every start.
# Facts behind the choices: ../shared/notes/kubernetes-here.md (in the
# workspace) and docs/tekton.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${DRACON_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dracon/cluster}
state=${DRACON_CLUSTER_STATE:-/var/lib/dracon-cluster}
k8s_version=${DRACON_KUBERNETES_VERSION:-v1.34.4}
tekton_version=$(cd "$root" && go list -m -f '{{.Version}}' github.com/tektoncd/pipeline)
kbin="$cache/kubernetes/$k8s_version"
tbin="$cache/tekton/$tekton_version"
export DRACON_CLUSTER_CACHE=$cache DRACON_KUBERNETES_VERSION=$k8s_version DRACON_TEKTON_VERSION=$tekton_version
kubeconfig="$state/admin.kubeconfig"
port=16443
etcd_port=23790
sock="$state/containerd/containerd.sock"
log() { echo "cluster: $*" >&2; }

need=()
for pkg in etcd-server containerd containernetworking-plugins busybox-static openssl podman runc; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
# Debian's packages start their own etcd and containerd when an init
# system is there; ours run on their own ports and sockets either way.

"$here/build-kubernetes.sh"
"$here/build-tekton.sh"

"$here/down.sh" >/dev/null 2>&1 || true
rm -rf "$state"
mkdir -p "$state"/{pki,logs,etcd,cni,kubelet,containerd,workspace}
cd "$state"

start() { # start NAME CMD...: a process of the cluster, its log in logs/NAME.log
  local name=$1
  shift
  setsid "$@" >"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}
wait_for() { # wait_for WHAT SECONDS CMD...
  local what=$1 secs=$2
  shift 2
  for _ in $(seq "$secs"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  log "$what did not come up in ${secs}s; its log:"
  tail -30 "$state/logs/$what.log" >&2 || true
  exit 1
}

# --- certificates, keys and the admin token
(
  cd pki
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=dracon-test-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' >san.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 30 -extfile san.ext 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
)
token=$(openssl rand -hex 24)
printf '%s,admin,admin,"system:masters"\n' "$token" >pki/tokens.csv
cat >"$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: dracon-test
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $state/pki/ca.crt
users:
- name: admin
  user:
    token: $token
contexts:
- name: dracon-test
  context: {cluster: dracon-test, user: admin}
current-context: dracon-test
EOF
chmod 600 "$kubeconfig"
kubectl() { "$kbin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

# --- the control plane
log "starting etcd, kube-apiserver $k8s_version, controller-manager, scheduler"
start etcd etcd --name dracon --data-dir "$state/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
  --initial-cluster dracon=http://127.0.0.1:23800
wait_for etcd 30 curl -fsS "http://127.0.0.1:$etcd_port/health"
start apiserver "$kbin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
  --tls-cert-file pki/apiserver.crt --tls-private-key-file pki/apiserver.key --client-ca-file pki/ca.crt \
  --token-auth-file pki/tokens.csv --authorization-mode Node,RBAC --allow-privileged=true \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file pki/sa.pub --service-account-signing-key-file pki/sa.key \
  --service-cluster-ip-range 10.96.0.0/24 --enable-priority-and-fairness=false \
  --kubelet-preferred-address-types InternalIP
wait_for apiserver 90 kubectl get --raw /readyz
start controller-manager "$kbin/kube-controller-manager" --kubeconfig "$kubeconfig" --leader-elect=false \
  --bind-address 127.0.0.1 --service-account-private-key-file pki/sa.key --root-ca-file pki/ca.crt \
  --use-service-account-credentials=false
start scheduler "$kbin/kube-scheduler" --kubeconfig "$kubeconfig" --leader-elect=false --bind-address 127.0.0.1

# --- the node: containerd, the CNI bridge, the kubelet
cat >cni/10-dracon.conflist <<'EOF'
{
  "cniVersion": "1.0.0",
  "name": "dracon",
  "plugins": [
    {"type": "bridge", "bridge": "dracon0", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "loopback"}
  ]
}
EOF
cat >containerd/config.toml <<EOF
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
[grpc]
  address = "$sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/dracon-cluster/pause:v1"
  # The machine's sandbox lacks CAP_SYS_RESOURCE: without this every pod
  # sandbox fails ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni"
EOF
# The node's address: the kubelet refuses a loopback one, and the API
# server reaches it there for logs. A private address on the loopback
# interface keeps it off every network (this machine's kernel has no
# dummy interfaces).
node_ip=10.250.0.1
ip addr replace "$node_ip/32" dev lo
log "starting containerd and the kubelet"
start containerd containerd --config containerd/config.toml
wait_for containerd 30 ctr -a "$sock" version

# Images: the pod sandbox, Tekton's helpers and a shell for its scripts,
# each FROM scratch around binaries built here, then Dracon's own image.
build_image() { # build_image NAME DIR: podman build, then into containerd
  local name=$1 dir=$2
  if ! podman image exists "$name"; then
    podman build -q -t "$name" "$dir" >/dev/null
  fi
  podman save "$name" | ctr -a "$sock" -n k8s.io images import - >/dev/null
}
images="$cache/images"
mkdir -p "$images"
if [ ! -x "$cache/pause/pause" ]; then
  mkdir -p "$cache/pause"
  (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$cache/pause/pause" ./scripts/cluster/pause)
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/pause"
cp "$cache/pause/pause" "$ctx/pause/pause"
printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' >"$ctx/pause/Containerfile"
build_image localhost/dracon-cluster/pause:v1 "$ctx/pause"
for b in entrypoint nop workingdirinit sidecarlogresults; do
  mkdir -p "$ctx/$b"
  cp "$tbin/$b" "$ctx/$b/$b"
  printf 'FROM scratch\nCOPY %s /ko-app/%s\nENTRYPOINT ["/ko-app/%s"]\n' "$b" "$b" "$b" >"$ctx/$b/Containerfile"
  build_image "localhost/tekton/$b:$tekton_version" "$ctx/$b"
done
# Tekton writes step scripts with a shell image (busybox by default).
mkdir -p "$ctx/shell/rootfs/bin" "$ctx/shell/rootfs/tmp"
cp /bin/busybox "$ctx/shell/rootfs/bin/busybox"
for a in sh base64 cat mkdir cp chmod touch ls printf echo rm tee; do ln -sf busybox "$ctx/shell/rootfs/bin/$a"; done
printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nENTRYPOINT ["/bin/sh"]\n' >"$ctx/shell/Containerfile"
build_image "localhost/dracon-cluster/shell:v1" "$ctx/shell"

cat >kubelet/config.yaml <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: 10250
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$sock
failSwapOn: false
failCgroupV1: false
registerNode: true
serializeImagePulls: false
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
# A test node on a shared disk: never evict for disk or memory pressure.
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 60
EOF
start kubelet "$kbin/kubelet" --kubeconfig "$kubeconfig" --config kubelet/config.yaml \
  --root-dir "$state/kubelet" --hostname-override dracon-node --node-ip "$node_ip"
wait_for kubelet 120 sh -c "'$kbin/kubectl' --kubeconfig '$kubeconfig' get node dracon-node -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

# --- Tekton: its CRDs and ConfigMaps, then its controller, as a process
log "installing Tekton $tekton_version"
kubectl create namespace tekton-pipelines >/dev/null
kubectl apply --server-side -f "$tbin/config" >/dev/null
# No webhook runs (it would need a Service and the cluster's DNS); Tekton
# reads and writes v1 objects without it. The affinity assistant is off:
# it schedules a StatefulSet per PipelineRun, and one node needs none.
kubectl -n tekton-pipelines patch configmap feature-flags --type merge \
  -p '{"data":{"coschedule":"disabled"}}' >/dev/null
start tekton env SYSTEM_NAMESPACE=tekton-pipelines KUBERNETES_MIN_VERSION=v1.34.0 \
  CONFIG_DEFAULTS_NAME=config-defaults CONFIG_LOGGING_NAME=config-logging \
  CONFIG_OBSERVABILITY_NAME=config-observability CONFIG_FEATURE_FLAGS_NAME=feature-flags \
  CONFIG_LEADERELECTION_NAME=config-leader-election-controller CONFIG_SPIRE=config-spire \
  METRICS_DOMAIN=tekton.dev/pipeline \
  "$tbin/controller" -kubeconfig "$kubeconfig" \
  -entrypoint-image "localhost/tekton/entrypoint:$tekton_version" \
  -nop-image "localhost/tekton/nop:$tekton_version" \
  -sidecarlogresults-image "localhost/tekton/sidecarlogresults:$tekton_version" \
  -workingdirinit-image "localhost/tekton/workingdirinit:$tekton_version" \
  -shell-image localhost/dracon-cluster/shell:v1 \
  -shell-image-win localhost/dracon-cluster/shell:v1

# --- the namespace Dracon's chart goes into, and its workspace volume
kubectl create namespace dracon >/dev/null
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: dracon-workspace}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: dracon-local
  hostPath: {path: $state/workspace, type: DirectoryOrCreate}
  claimRef: {namespace: dracon, name: dracon-workspace}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: dracon-workspace, namespace: dracon}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: dracon-local
  resources: {requests: {storage: 10Gi}}
  volumeName: dracon-workspace
EOF
log "up: kubectl --kubeconfig $kubeconfig (logs in $state/logs)"
echo "$kubeconfig"
