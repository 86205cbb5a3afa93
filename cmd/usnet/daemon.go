package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"syscall"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/stack"
)

// cmdDaemon is `usnet daemon [--socket PATH] [--admin-group NAME|GID]`:
// a real-time stack serving rtnetlink on a unix socket until SIGINT or
// SIGTERM.
func cmdDaemon(args []string) error {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	path := fs.String("socket", daemon.DefaultPath(), "unix socket to listen on ($USNET_SOCKET)")
	group := fs.String("admin-group", "", "group (name or GID) whose members may change things, as root and the daemon's user may")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var gid uint32
	if *group != "" {
		var err error
		if gid, err = lookupGroup(*group); err != nil {
			return err
		}
	}
	st, err := stack.NewRealtime()
	if err != nil {
		return err
	}
	srv, err := daemon.Listen(*path, st)
	if err != nil {
		return err
	}
	if *group != "" {
		srv.SetAdminGroup(gid)
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

// lookupGroup resolves a group name or number.
func lookupGroup(name string) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	return uint32(n), err
}
