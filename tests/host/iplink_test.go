package host

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/iproute"
	"github.com/usnet/usnet/stack"
)

// TestIPLinkAddHostKinds: `usnet ip link add ... type tap` and `type
// afpacket` through the daemon create working host-backed devices (the
// kernel pings usnet over each), and `link del` removes the host side.
func TestIPLinkAddHostKinds(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("needs iputils-ping")
	}
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := daemon.Listen(filepath.Join(t.TempDir(), "u.sock"), st)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()
	ip := func(args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := iproute.Run(args, iproute.Options{Stdout: &out, Stderr: &errb,
			Dial: func(ns string) (iproute.Transport, error) { return daemon.Dial(srv.Path(), ns) }})
		if code != 0 {
			t.Fatalf("usnet ip %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
		}
	}
	if err := daemon.NetnsAdd(srv.Path(), "u"); err != nil {
		t.Fatal(err)
	}
	kns, _ := vethNS(t, "iplink") // va/vb up in the kernel namespace
	sh(t, "ip", "-n", kns, "addr", "add", "10.98.0.1/24", "dev", "va")

	// TAP: the host side appears in the kernel namespace.
	ip("-n", "u", "link", "add", "tap0", "type", "tap", "hostname", "utapk", "hostnetns", kns)
	sh(t, "ip", "-n", kns, "link", "set", "utapk", "up")
	sh(t, "ip", "-n", kns, "addr", "add", "10.97.0.1/24", "dev", "utapk")
	ip("-n", "u", "addr", "add", "10.97.0.2/24", "dev", "tap0")
	ip("-n", "u", "link", "set", "tap0", "up")
	sh(t, "ip", "netns", "exec", kns, "ping", "-c", "2", "-W", "2", "10.97.0.2")

	// AF_PACKET on vb, exclusive (vb has no addresses).
	ip("-n", "u", "link", "add", "eth0", "type", "afpacket", "dev", "vb", "hostnetns", kns)
	ip("-n", "u", "addr", "add", "10.98.0.2/24", "dev", "eth0")
	ip("-n", "u", "link", "set", "eth0", "up")
	sh(t, "ip", "netns", "exec", kns, "ping", "-c", "2", "-W", "2", "10.98.0.2")

	// The daemon reports the ports' framed-I/O counters (`usnet stat`'s
	// flow-control column).
	ps, err := daemon.PortStats(srv.Path(), "u")
	if err != nil {
		t.Fatal(err)
	}
	if ps["tap0"].RxFrames == 0 || ps["eth0"].RxFrames == 0 {
		t.Fatalf("port stats %+v", ps)
	}
	ip("-n", "u", "link", "del", "tap0")
	if out, err := exec.Command("ip", "-n", kns, "link", "show", "utapk").CombinedOutput(); err == nil {
		t.Fatalf("host TAP still there after link del:\n%s", out)
	}
	ip("-n", "u", "link", "del", "eth0")
}
