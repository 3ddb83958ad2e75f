// Command etcd is the etcd server, built from its Go module at the version pinned in
// tools/versions.env (Debian's etcd is older than Kubernetes supports).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
