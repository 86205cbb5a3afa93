package host

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/drivers/tap"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/ping"
)

// kernelBridgeInfo reads `ip -d -j link show DEV` in a kernel namespace:
// the bridge's info_data, or a port's info_slave_data.
func kernelBridgeInfo(t *testing.T, kns, dev, key string) map[string]any {
	t.Helper()
	out := sh(t, "ip", "-n", kns, "-d", "-j", "link", "show", dev)
	var v []struct {
		LinkInfo map[string]json.RawMessage `json:"linkinfo"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
		t.Fatalf("ip -d -j link show %s: %v\n%s", dev, err, out)
	}
	var m map[string]any
	if err := json.Unmarshal(v[0].LinkInfo[key], &m); err != nil {
		t.Fatalf("%s of %s: %v", key, dev, err)
	}
	return m
}

// etherNtoa formats a bridge ID as iproute2 prints it (unpadded hex).
func etherNtoa(id bridge.ID) string {
	a := id.Addr()
	return fmt.Sprintf("%04x.%x:%x:%x:%x:%x:%x", id.Priority(), a[0], a[1], a[2], a[3], a[4], a[5])
}

// sysfsID formats a bridge ID as /sys/class/net/BR/bridge/root_id does.
func sysfsID(id bridge.ID) string {
	a := id.Addr()
	return fmt.Sprintf("%04x.%02x%02x%02x%02x%02x%02x", id.Priority(), a[0], a[1], a[2], a[3], a[4], a[5])
}

// TestBridgeSTPWithKernel: a usnet bridge and a kernel bridge joined by
// two TAP links form a loop. Both run 802.1D STP; the usnet bridge, with
// the lower priority, must be elected root by both, and the kernel must
// block one of its two ports. Then ping crosses the tree.
func TestBridgeSTPWithKernel(t *testing.T) {
	needRoot(t)
	kns, path := kernelNS(t, "stp")
	ns := usnetNS(t)
	var br *bridge.Bridge
	var err error
	ns.Exec().Do(func() {
		if br, err = bridge.New(ns.Dev, "br0"); err != nil {
			return
		}
		br.SetSTP(true)
		br.SetPriority(0x1000)
		for _, f := range []func() error{
			func() error { return br.SetForwardDelay(2 * time.Second) },
			func() error { return br.SetHelloTime(time.Second) },
			func() error { return br.SetMaxAge(6 * time.Second) },
		} {
			if err == nil {
				err = f()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var taps []*netdev.Device
	for i := range 2 {
		d, err := tap.New(ns.Dev, fmt.Sprintf("tap%d", i), fmt.Sprintf("utap%d", i), path)
		if err != nil {
			t.Fatal(err)
		}
		ns.Exec().Do(func() { err = br.AddPort(d) })
		if err != nil {
			t.Fatal(err)
		}
		up(t, ns, d)
		taps = append(taps, d)
	}
	sh(t, "ip", "-n", kns, "link", "add", "kbr0", "type", "bridge", "stp_state", "1",
		"forward_delay", "200", "hello_time", "100", "max_age", "600", "priority", "32768")
	for i := range 2 {
		sh(t, "ip", "-n", kns, "link", "set", fmt.Sprintf("utap%d", i), "master", "kbr0")
		sh(t, "ip", "-n", kns, "link", "set", fmt.Sprintf("utap%d", i), "up")
	}
	sh(t, "ip", "-n", kns, "link", "set", "kbr0", "up")
	sh(t, "ip", "-n", kns, "addr", "add", "10.98.0.1/24", "dev", "kbr0")
	up(t, ns, br.Device())
	ip := netip.MustParseAddr("10.98.0.2")
	ns.Exec().Do(func() {
		_, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: br.Device(), Local: ip, Prefix: netip.PrefixFrom(ip, 24)})
	})
	if err != nil {
		t.Fatal(err)
	}

	var usnetID, usnetRoot bridge.ID
	var states []uint8
	converged := func() bool {
		ns.Exec().Do(func() {
			usnetID, usnetRoot = br.BridgeID(), br.RootID()
			states = states[:0]
			for _, p := range br.Ports() {
				states = append(states, p.State())
			}
		})
		// iproute2 6.1 prints the bridge ID under root_id; sysfs has
		// the kernel's designated root.
		root := strings.TrimSpace(sh(t, "ip", "netns", "exec", kns, "cat", "/sys/class/net/kbr0/bridge/root_id"))
		if root != sysfsID(usnetID) || usnetRoot != usnetID {
			return false
		}
		blocking, forwarding := 0, 0
		for i := range 2 {
			switch kernelBridgeInfo(t, kns, fmt.Sprintf("utap%d", i), "info_slave_data")["state"] {
			case "blocking":
				blocking++
			case "forwarding":
				forwarding++
			}
		}
		return blocking == 1 && forwarding == 1 && states[0] == bridge.StateForwarding && states[1] == bridge.StateForwarding
	}
	deadline := time.Now().Add(20 * time.Second)
	for !converged() {
		if time.Now().After(deadline) {
			kd := kernelBridgeInfo(t, kns, "kbr0", "info_data")
			t.Fatalf("no agreement after 20 s: kernel root %s bridge %v; usnet id %s root %s ports %v\n%s",
				sh(t, "ip", "netns", "exec", kns, "cat", "/sys/class/net/kbr0/bridge/root_id"), kd["bridge_id"],
				etherNtoa(usnetID), etherNtoa(usnetRoot), states,
				sh(t, "ip", "-n", kns, "-d", "link", "show", "master", "kbr0"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("root %s (usnet); kernel blocks one of utap0/utap1", etherNtoa(usnetID))

	// Ping across the tree, both ways.
	var sock *ping.Sock
	ns.Exec().Do(func() { sock, err = ns.Ping.NewSock(0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Exec().Do(func() { sock.Close() })
	got := false
	for i := 0; i < 20 && !got; i++ {
		ns.Exec().Do(func() { err = sock.SendEcho(netip.MustParseAddr("10.98.0.1"), uint16(i), make([]byte, 56), 0) })
		time.Sleep(100 * time.Millisecond)
		ns.Exec().Do(func() {
			if r, rerr, ok := sock.Recv(); ok && rerr == nil {
				got = true
				r.Buf.Free()
			}
		})
	}
	if !got {
		t.Fatal("usnet → kernel ping across the bridges failed")
	}
	out, err := exec.Command("ip", "netns", "exec", kns, "ping", "-c", "2", "-W", "2", "10.98.0.2").CombinedOutput()
	if err != nil || !strings.Contains(string(out), " 0% packet loss") {
		t.Fatalf("kernel → usnet ping: %v\n%s", err, out)
	}
}
