// Command usnet is the user-space Linux network stack's tool: it runs
// simulated scenarios and, as the stack grows, serves and drives
// namespaces (daemon, ip, capture, stat).
package main

import (
	"fmt"
	"os"
)

var commands = map[string]func(args []string) error{
	"run": cmdRun,
}

func usage() {
	fmt.Fprintf(os.Stderr, `usage: usnet COMMAND [ARGS]

commands:
  run [--seed N] [--out DIR]   run the embedded default scenario on virtual time
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
