#!/usr/bin/env bash
# Stops the test cluster up.sh started: its pods' containers, then each of
# its processes, then the mounts the kubelet left. Safe to run when it is
# not up.
set -uo pipefail
state=${DRACON_CLUSTER_STATE:-/var/lib/dracon-cluster}
sock="$state/containerd/containerd.sock"
[ -d "$state" ] || exit 0
stop() { # stop NAME: TERM, then KILL after 10 s
  local f="$state/$1.pid"
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$f"
}
stop tekton
stop kubelet
if [ -S "$sock" ]; then
  for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1
  done
  sleep 1
fi
stop containerd
# The shims outlive containerd; theirs name its state folder.
pkill -9 -f "containerd-shim.*$state" 2>/dev/null
stop scheduler
stop controller-manager
stop apiserver
stop etcd
grep -o " ${state}[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
ip link delete dracon0 2>/dev/null
ip addr delete 10.250.0.1/32 dev lo 2>/dev/null
exit 0
