// Command pause is the local cluster's pod sandbox image (the role registry.k8s.io/pause plays):
// it holds a pod's namespaces and does nothing until it is told to stop. Nothing can be pulled
// here, so it is built from this source and imported under the name containerd's sandbox_image
// names (tools/cluster).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	// As PID 1 of the sandbox it also reaps nothing: containers of the pod run in their own PID
	// namespaces unless the pod shares one, which ChatCluster's pods do not.
	<-stop
}
