// Command pause is the test cluster's pod sandbox image: it holds a pod's
// namespaces open until the kubelet stops it, as Kubernetes' own pause
// image does (that one is C, built by Kubernetes' release tooling, and
// this machine reaches no registry to pull it).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
