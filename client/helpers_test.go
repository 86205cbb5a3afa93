package client

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/rtnl"
	"github.com/usnet/usnet/stack"
)

// eachMode runs f against an in-process client and against one
// connected to a daemon, each on a fresh real-time stack.
func eachMode(t *testing.T, f func(t *testing.T, c *Client), opts ...Option) {
	t.Run("inprocess", func(t *testing.T) {
		t.Parallel()
		f(t, newInProcess(t, opts...))
	})
	t.Run("daemon", func(t *testing.T) {
		t.Parallel()
		f(t, newRemote(t, opts...))
	})
}

func newInProcess(t testing.TB, opts ...Option) *Client {
	t.Helper()
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	c := InProcess(rtnl.New(st), opts...)
	t.Cleanup(func() { c.Close() })
	return c
}

func newRemote(t *testing.T, opts ...Option) *Client {
	t.Helper()
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.Listen(filepath.Join(t.TempDir(), "usnet.sock"), st)
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve()
	t.Cleanup(func() { d.Close() })
	c, err := Connect(d.Path(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newNS creates a namespace and returns its handle.
func newNS(t *testing.T, c *Client, name string) *Namespace {
	t.Helper()
	if err := c.AddNamespace(name); err != nil {
		t.Fatal(err)
	}
	return c.Namespace(name)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor reads events until match accepts one. The generous timeout is
// a failure guard only; nothing measures time.
func waitFor[T any](t *testing.T, ch <-chan T, what string, match func(T) bool) T {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s", what)
		}
	}
}
