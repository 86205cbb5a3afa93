package daemon

import (
	"path/filepath"
	"testing"

	"github.com/usnet/usnet/stack"
)

// FuzzHello sends the daemon hellos with arbitrary verbs and arguments,
// as any local user may: every one is answered or refused, and the daemon
// keeps serving. Namespaces a hello creates are deleted again, so the
// run stays bounded.
func FuzzHello(f *testing.F) {
	for _, c := range [][2]string{
		{VerbRtnetlink, ""}, {VerbSocket, "nosuch"}, {VerbNetnsAdd, "blue"},
		{VerbNetnsDel, "default"}, {VerbNetnsList, ""}, {VerbNetnsID, "default"},
		{VerbCapture, "/lo"}, {VerbCapture, "x/"}, {VerbPortStats, ""},
		{VerbSysctl, "\x00net.ipv4.ip_forward"}, {VerbSysctl, "\x00net.ipv4.ip_forward=1"},
		{"bogus", "\x00\x00"},
	} {
		f.Add(c[0], c[1])
	}
	st, err := stack.NewRealtime()
	if err != nil {
		f.Fatal(err)
	}
	srv, err := Listen(filepath.Join(f.TempDir(), "usnet.sock"), st)
	if err != nil {
		f.Fatal(err)
	}
	go srv.Serve()
	f.Cleanup(func() { srv.Close() })
	f.Fuzz(func(t *testing.T, verb, arg string) {
		c, _, err := dial(srv.Path(), verb, arg)
		if err == nil {
			c.Close()
		}
		if verb == VerbNetnsAdd && err == nil {
			NetnsDel(srv.Path(), arg)
		}
		if _, err := NetnsList(srv.Path()); err != nil {
			t.Fatalf("after hello %q %q the daemon does not answer: %v", verb, arg, err)
		}
	})
}
