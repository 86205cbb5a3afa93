package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/stack"
)

// cmdDaemon is `usnet daemon [--socket PATH]`: a real-time stack serving
// rtnetlink on a unix socket until SIGINT or SIGTERM.
func cmdDaemon(args []string) error {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	path := fs.String("socket", daemon.DefaultPath(), "unix socket to listen on ($USNET_SOCKET)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	st, err := stack.NewRealtime()
	if err != nil {
		return err
	}
	srv, err := daemon.Listen(*path, st)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "usnet daemon: serving rtnetlink on %s\n", srv.Path())
	return srv.Serve()
}
