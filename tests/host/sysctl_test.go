package host

import (
	"bytes"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/rtnl"
	"github.com/usnet/usnet/stack"
)

// sysctlHostDerived are the names whose value in a fresh kernel namespace
// depends on the host rather than on Linux's defaults, with the reason;
// TestSysctlDefaults does not compare them.
var sysctlHostDerived = map[string]string{
	"net.ipv4.tcp_congestion_control":           "a new namespace inherits init_net's algorithm, the host's choice",
	"net.ipv4.tcp_available_congestion_control": "the algorithms the host kernel has built or loaded",
	"net.ipv4.tcp_max_syn_backlog":              "scaled to the host's TCP hash table size (memory)",
	"net.ipv4.tcp_max_tw_buckets":               "scaled to the host's TCP hash table size (memory)",
}

// sysctlKnownDiff are names where usnet's default knowingly differs from
// the kernel's built-in one, with the reason.
var sysctlKnownDiff = map[string]string{}

// TestSysctlDefaults: every name usnet has exists in a fresh kernel
// namespace and, unless listed above, has the same value there; the
// per-device names are compared for lo and a veth device on both sides.
func TestSysctlDefaults(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("sysctl"); err != nil {
		t.Skip("needs procps sysctl")
	}
	kns, _ := kernelNS(t, "sysctl")
	sh(t, "ip", "-n", kns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	kernel := map[string]string{}
	out, _ := exec.Command("ip", "netns", "exec", kns, "sysctl", "-a").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, " = "); ok {
			kernel[k] = v
		}
	}
	if len(kernel) == 0 {
		t.Fatal("sysctl -a in the kernel namespace printed nothing")
	}

	st, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := st.Add("u")
	if _, _, err := veth.Create(veth.End{Table: ns.Dev, Name: "v1"}, veth.End{Table: ns.Dev, Name: "v0"}); err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, e := range ns.Sysctls() {
		kv, ok := kernel[e.Name]
		if !ok {
			// sysctl -a leaves out the names procps deems
			// deprecated: read them by name.
			out, err := exec.Command("ip", "netns", "exec", kns, "sysctl", "-n", e.Name).Output()
			if err != nil {
				t.Errorf("%s: usnet has it, the kernel does not", e.Name)
				continue
			}
			kv = strings.TrimSuffix(string(out), "\n")
		}
		if why := sysctlHostDerived[e.Name]; why != "" {
			t.Logf("skipped %s (usnet %q, kernel %q): %s", e.Name, e.Value, kv, why)
			continue
		}
		if i := strings.LastIndexByte(e.Name, '.'); i >= 0 {
			if why := sysctlKnownDiff[e.Name[i+1:]]; why != "" && e.Value != kv {
				t.Logf("skipped %s (usnet %q, kernel %q): %s", e.Name, e.Value, kv, why)
				continue
			}
		}
		want := kv
		if e.Name == "net.ipv4.tcp_rmem" || e.Name == "net.ipv4.tcp_wmem" {
			// The maximum is a share of the host's memory, capped
			// (tcp_init): compare min and default only.
			f, g := strings.Split(e.Value, "\t"), strings.Split(kv, "\t")
			if len(f) == 3 && len(g) == 3 {
				t.Logf("%s: max not compared (usnet %s, kernel %s): a share of the host's memory", e.Name, f[2], g[2])
				want, e.Value = strings.Join(g[:2], "\t"), strings.Join(f[:2], "\t")
			}
		}
		if e.Value != want {
			t.Errorf("%s = %q in usnet, %q in a fresh kernel namespace", e.Name, e.Value, want)
		}
		compared++
	}
	t.Logf("%d names compared", compared)
}

// kernelNetconfSocket opens a NETLINK_ROUTE socket in the kernel
// namespace at path, joined to RTNLGRP_IPV4_NETCONF.
func kernelNetconfSocket(t *testing.T, path string) int {
	t.Helper()
	type res struct {
		fd  int
		err error
	}
	ch := make(chan res)
	go func() {
		// The thread joins the namespace and is never given back: it
		// ends with the goroutine (no UnlockOSThread).
		runtime.LockOSThread()
		nsfd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- res{-1, err}
			return
		}
		defer unix.Close(nsfd)
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			ch <- res{-1, err}
			return
		}
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err == nil {
			err = unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		}
		if err == nil {
			err = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, unix.RTNLGRP_IPV4_NETCONF)
		}
		ch <- res{fd, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { unix.Close(r.fd) })
	return r.fd
}

// TestSysctlNetconfLive performs the same sysctl writes in a kernel
// namespace and in a usnet one (lo, then the veth pair v0 with its peer
// v1 registered first, as the kernel does) and compares the
// RTM_NEWNETCONF datagrams byte for byte, step by step.
func TestSysctlNetconfLive(t *testing.T) {
	needRoot(t)
	kns, kpath := kernelNS(t, "netconf")
	sh(t, "ip", "-n", kns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	kfd := kernelNetconfSocket(t, kpath)

	st, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := st.Add("u")
	if _, _, err := veth.Create(veth.End{Table: ns.Dev, Name: "v1"}, veth.End{Table: ns.Dev, Name: "v0"}); err != nil {
		t.Fatal(err)
	}
	ns.Exec().Do(func() { ns.Lo.Up() }) // kernelNS brought the kernel's up
	srv := rtnl.New(st)
	mon, err := srv.Open("u", rtnl.Cred{Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	mon.Join(unix.RTNLGRP_IPV4_NETCONF)

	buf := make([]byte, 1<<16)
	for _, kv := range []string{
		"net.ipv4.ip_forward=1", "net.ipv4.ip_forward=1",
		"net.ipv4.conf.v0.rp_filter=2", "net.ipv4.conf.v0.rp_filter=2",
		"net.ipv4.conf.all.proxy_arp=1", "net.ipv4.conf.v1.proxy_arp=1", "net.ipv4.conf.all.proxy_arp=0",
		"net.ipv4.conf.default.forwarding=0", "net.ipv4.conf.default.forwarding=0",
		"net.ipv4.conf.all.forwarding=0", "net.ipv4.conf.v0.forwarding=1",
		"net.ipv4.conf.default.rp_filter=1", "net.ipv4.conf.all.rp_filter=2",
		"net.ipv4.conf.all.ignore_routes_with_linkdown=1", "net.ipv4.conf.v0.ignore_routes_with_linkdown=1",
		"net.ipv4.conf.default.forwarding=1", "net.ipv4.conf.v1.arp_ignore=1",
	} {
		sh(t, "ip", "netns", "exec", kns, "sysctl", "-q", "-w", kv)
		var want [][]byte
		for {
			n, _, err := unix.Recvfrom(kfd, buf, unix.MSG_DONTWAIT)
			if err != nil {
				break
			}
			want = append(want, append([]byte(nil), buf[:n]...))
		}
		name, value, _ := strings.Cut(kv, "=")
		if err := ns.SetSysctl(name, value); err != nil {
			t.Fatalf("%s: %v", kv, err)
		}
		var got [][]byte
		for mon.Pending() > 0 {
			n, err := mon.Recv(buf)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, append([]byte(nil), buf[:n]...))
		}
		if len(got) != len(want) {
			t.Errorf("%s: usnet sent %d RTM_NEWNETCONF, the kernel %d", kv, len(got), len(want))
			continue
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: datagram %d\nusnet  %x\nkernel %x", kv, i+1, got[i], want[i])
			}
		}
		t.Logf("%s: %d notifications", kv, len(want))
	}
	// The writes leave the same settings behind (default's rp_filter
	// reached v1, never written, but not v0; ip_forward turned
	// all.accept_redirects off).
	kernel := map[string]string{}
	out, _ := exec.Command("ip", "netns", "exec", kns, "sysctl", "-a", "-r", `^net\.ipv4\.(conf|ip_forward)`).Output()
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, " = "); ok {
			kernel[k] = v
		}
	}
	for _, e := range ns.Sysctls() {
		if !strings.HasPrefix(e.Name, "net.ipv4.conf.") {
			continue
		}
		if kernel[e.Name] != e.Value {
			t.Errorf("after the writes %s = %q in usnet, %q in the kernel", e.Name, e.Value, kernel[e.Name])
		}
	}
}
