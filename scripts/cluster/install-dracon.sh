#!/usr/bin/env bash
# Puts Dracon on the test cluster up.sh started: builds Dracon's image from
# this checkout (scripts/build-image.sh), imports it into the node's
# containerd, installs charts/runner into the namespace dracon with that
# image, and writes a kubeconfig for the chart's CI ServiceAccount (the
# least-privilege Role a CI job gets), whose path it prints last.
#   scripts/cluster/install-dracon.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${DRACON_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dracon/cluster}
state=${DRACON_CLUSTER_STATE:-/var/lib/dracon-cluster}
k8s_version=${DRACON_KUBERNETES_VERSION:-v1.34.4}
kubeconfig="$state/admin.kubeconfig"
sock="$state/containerd/containerd.sock"
image=localhost/dracon:cluster
log() { echo "cluster: $*" >&2; }
kubectl() { "$cache/kubernetes/$k8s_version/kubectl" --kubeconfig "$kubeconfig" "$@"; }

log "building $image from this checkout"
"$root/scripts/build-image.sh" "$image" >&2
podman save "$image" | ctr -a "$sock" -n k8s.io images import - >/dev/null
log "installing charts/runner"
ci=dracon-ci
"$root/scripts/helm.sh" upgrade --install dracon "$root/charts/runner" --kubeconfig "$kubeconfig" -n dracon \
  --set image.repository=localhost/dracon --set image.tag=cluster --set image.pullPolicy=Never --set ci.serviceAccount=$ci >/dev/null
# The CI job's view of the cluster: the chart's dracon-ci ServiceAccount.
token=$(kubectl -n dracon create token "$ci" --duration 4h)
cat >"$state/ci.kubeconfig" <<EOF2
apiVersion: v1
kind: Config
clusters:
- name: dracon-test
  cluster:
    server: $(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')
    certificate-authority: $state/pki/ca.crt
users:
- name: $ci
  user:
    token: $token
contexts:
- name: dracon-test
  context: {cluster: dracon-test, user: $ci, namespace: dracon}
current-context: dracon-test
EOF2
chmod 600 "$state/ci.kubeconfig"
log "installed: CI kubeconfig $state/ci.kubeconfig (ServiceAccount $ci)"
echo "$state/ci.kubeconfig"
