package host

import (
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/macvlan"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// The macvlan topology, built once with the kernel and once with usnet:
// namespace h holds the lower device eth0 (10.0.0.1), joined by a veth to
// the peer p (10.0.0.9); two bridge-mode macvlans of h's eth0 are moved
// into containers c1 (10.0.0.11) and c2 (10.0.0.12).
var mvAddrs = map[string]string{"h": "10.0.0.1", "p": "10.0.0.9", "c1": "10.0.0.11", "c2": "10.0.0.12"}

// mvPairs is the reachability matrix: from -> to, by ping.
var mvPairs = [][2]string{
	{"c1", "c2"}, {"c2", "c1"}, // macvlans of one lower, bridge mode
	{"c1", "p"}, {"p", "c1"}, {"c2", "p"}, // macvlan <-> peer on the lower's link
	{"h", "c1"}, {"c1", "h"}, // lower <-> its own macvlan: never, on Linux
	{"h", "p"}, // the lower itself
}

var mvWant = map[[2]string]bool{
	{"c1", "c2"}: true, {"c2", "c1"}: true, {"c1", "p"}: true, {"p", "c1"}: true, {"c2", "p"}: true,
	{"h", "c1"}: false, {"c1", "h"}: false, {"h", "p"}: true,
}

func kernelMacvlanMatrix(t *testing.T) map[[2]string]bool {
	ns := map[string]string{}
	for _, n := range []string{"h", "p", "c1", "c2"} {
		ns[n], _ = kernelNS(t, "mv"+n)
	}
	sh(t, "ip", "-n", ns["h"], "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", ns["p"])
	for _, n := range []string{"h", "p"} {
		sh(t, "ip", "-n", ns[n], "addr", "add", mvAddrs[n]+"/24", "dev", "eth0")
		sh(t, "ip", "-n", ns[n], "link", "set", "eth0", "up")
	}
	for i, c := range []string{"c1", "c2"} {
		mv := []string{"mv1", "mv2"}[i]
		sh(t, "ip", "-n", ns["h"], "link", "add", "link", "eth0", "name", mv, "type", "macvlan", "mode", "bridge")
		sh(t, "ip", "-n", ns["h"], "link", "set", mv, "netns", ns[c])
		sh(t, "ip", "-n", ns[c], "addr", "add", mvAddrs[c]+"/24", "dev", mv)
		sh(t, "ip", "-n", ns[c], "link", "set", mv, "up")
	}
	got := map[[2]string]bool{}
	for _, pr := range mvPairs {
		err := exec.Command("ip", "netns", "exec", ns[pr[0]], "ping", "-c", "1", "-W", "1", "-q", mvAddrs[pr[1]]).Run()
		got[pr] = err == nil
	}
	return got
}

func usnetMacvlanMatrix(t *testing.T) map[[2]string]bool {
	s, err := stack.NewSim(5)
	if err != nil {
		t.Fatal(err)
	}
	ns := map[string]*stack.Namespace{}
	for _, n := range []string{"h", "p", "c1", "c2"} {
		if ns[n], err = s.Add(n); err != nil {
			t.Fatal(err)
		}
		ns[n].Lo.Up()
	}
	addr := func(n string, d *netdev.Device) {
		p := netip.MustParsePrefix(mvAddrs[n] + "/24")
		if _, err := ns[n].IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: p.Addr(), Prefix: p}); err != nil {
			t.Fatal(err)
		}
		if err := d.Up(); err != nil {
			t.Fatal(err)
		}
	}
	eh, ep, err := veth.Create(veth.End{Table: ns["h"].Dev, Name: "eth0"}, veth.End{Table: ns["p"].Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	addr("h", eh)
	addr("p", ep)
	for i, c := range []string{"c1", "c2"} {
		mv, err := macvlan.New(macvlan.Config{Name: []string{"mv1", "mv2"}[i], Lower: eh, Mode: macvlan.ModeBridge})
		if err != nil {
			t.Fatal(err)
		}
		if err := netdev.Move(mv, ns[c].Dev); err != nil {
			t.Fatal(err)
		}
		addr(c, mv)
	}
	s.Sim.RunFor(10 * time.Millisecond)
	got := map[[2]string]bool{}
	for i, pr := range mvPairs {
		sock, err := ns[pr[0]].Ping.NewSock(0)
		if err != nil {
			t.Fatal(err)
		}
		ok := false
		if sock.SendEcho(netip.MustParseAddr(mvAddrs[pr[1]]), uint16(i+1), make([]byte, 56), 0) == nil {
			end := s.Sim.Now() + time.Second
			s.Sim.RunWhile(func() bool {
				r, rerr, done := sock.Recv()
				if done {
					if rerr == nil {
						ok = true
						r.Buf.Free()
					}
					return false
				}
				return s.Sim.Now() < end
			})
		}
		sock.Close()
		got[pr] = ok
	}
	return got
}

// TestMacvlanMatchesKernel: the same bridge-mode topology gives the same
// reachability with the kernel's macvlan and with usnet's, and both are
// Linux's rules (bridge-mode siblings talk directly, the lower device
// never reaches its own macvlans).
func TestMacvlanMatchesKernel(t *testing.T) {
	usnet := usnetMacvlanMatrix(t)
	for pr, w := range mvWant {
		if usnet[pr] != w {
			t.Errorf("usnet: %s -> %s reachable %v, want %v", pr[0], pr[1], usnet[pr], w)
		}
	}
	needRoot(t)
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("the kernel side needs iputils ping")
	}
	kernel := kernelMacvlanMatrix(t)
	for _, pr := range mvPairs {
		if kernel[pr] != usnet[pr] {
			t.Errorf("%s -> %s: kernel %v, usnet %v", pr[0], pr[1], kernel[pr], usnet[pr])
		}
	}
}
