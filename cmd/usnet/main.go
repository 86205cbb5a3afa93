// Command usnet is the user-space Linux network stack's tool: it runs
// simulated scenarios and, as the stack grows, serves and drives
// namespaces (daemon, ip, capture, stat, sysctl).
package main

import (
	"fmt"
	"os"
)

var commands = map[string]func(args []string) error{
	"run":     cmdRun,
	"daemon":  cmdDaemon,
	"ip":      cmdIP,
	"bridge":  cmdBridge,
	"ping":    cmdPing,
	"nc":      cmdNC,
	"http":    cmdHTTP,
	"perf":    cmdPerf,
	"stat":    cmdStat,
	"capture": cmdCapture,
	"sysctl":  cmdSysctl,
}

func usage() {
	fmt.Fprintf(os.Stderr, `usage: usnet COMMAND [ARGS]

commands:
  run [--seed N] [--out DIR]   run the embedded default scenario on virtual time
  daemon [--socket PATH] [--admin-group NAME|GID]
                               host namespaces and serve rtnetlink and sockets
  ip [-n NS] [-j] OBJECT ...   iproute2's ip against the daemon (--kernel: the kernel)
  bridge [-n NS] [-j] fdb|vlan|link ...
                               iproute2's bridge against the daemon (--kernel: the kernel)
  ping [-n NS] [-c N] DEST     ICMP echo from a daemon namespace
  nc [-n NS] [-l] [-u] [HOST] PORT
                               netcat through a daemon namespace
  http [-n NS] serve DIR [--addr A] | get URL [-o FILE]
  perf [-n NS] -s | -c HOST [-t S] [-R] [-P N] [-u [-b RATE]] [-i S] [-f UNIT] [-J] ...
                               iperf3-compatible server or client (-h: all options)
  capture [-n NS] -i DEV -w FILE [-c COUNT]
                               live pcapng capture of a daemon device
  stat [-n NS] [-j] [INTERVAL [COUNT]]
                               per-device rates and drops (one 1 s report by default)
  sysctl [-n NS] [-a] [-r RE] [-w] [--values] [-e] [-q] NAME[=VALUE]...
                               procps sysctl over a namespace's /proc/sys/net
                               (--values is procps's -n: -n is the namespace)

The daemon's socket is $USNET_SOCKET, else /run/usnet/usnet.sock (root)
or $XDG_RUNTIME_DIR/usnet.sock. Root, the daemon's user and members of
its --admin-group may change things; other users read, and get what Linux
gives a process without CAP_NET_ADMIN, CAP_NET_RAW and
CAP_NET_BIND_SERVICE: EPERM for changes, capture and raw sockets, EACCES
for ports below 1024.
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		if os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
			usage()
			return
		}
		fmt.Fprintf(os.Stderr, "usnet: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "usnet %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
