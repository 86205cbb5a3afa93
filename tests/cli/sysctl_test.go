package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// router builds a—r—b: namespaces a and b each joined to r by a veth
// pair, r holding 10.78.1.254 and 10.78.2.254, a and b routing through
// it by default.
func (d *daemon) router() {
	d.t.Helper()
	for _, ns := range []string{"a", "r", "b"} {
		d.must("ip", "netns", "add", ns)
		d.must("ip", "-n", ns, "link", "set", "lo", "up")
	}
	d.must("ip", "-n", "a", "link", "add", "va", "type", "veth", "peer", "name", "ra", "netns", "r")
	d.must("ip", "-n", "b", "link", "add", "vb", "type", "veth", "peer", "name", "rb", "netns", "r")
	for _, c := range [][]string{
		{"a", "va", "10.78.1.1/24"}, {"r", "ra", "10.78.1.254/24"},
		{"r", "rb", "10.78.2.254/24"}, {"b", "vb", "10.78.2.1/24"},
	} {
		d.must("ip", "-n", c[0], "addr", "add", c[2], "dev", c[1])
		d.must("ip", "-n", c[0], "link", "set", c[1], "up")
	}
	d.must("ip", "-n", "a", "route", "add", "default", "via", "10.78.1.254")
	d.must("ip", "-n", "b", "route", "add", "default", "via", "10.78.2.254")
}

// TestSysctlRouter: r forwards between a and b only once
// `usnet sysctl -w net.ipv4.ip_forward=1` turned forwarding on, which
// reaches r's devices too.
func TestSysctlRouter(t *testing.T) {
	d := startDaemon(t)
	d.router()
	if out := d.must("sysctl", "-n", "r", "net.ipv4.ip_forward"); out != "net.ipv4.ip_forward = 0\n" {
		t.Fatalf("usnet sysctl printed %q", out)
	}
	if r := d.run(nil, "ping", "-n", "a", "-c", "1", "-W", "0.5", "10.78.2.1"); r.code() == 0 || strings.Contains(r.stdout, "1 received") {
		t.Fatalf("ping across r before forwarding: exit %d\n%s", r.code(), r.stdout)
	}
	if out := d.must("sysctl", "-n", "r", "-w", "net.ipv4.ip_forward=1"); out != "net.ipv4.ip_forward = 1\n" {
		t.Fatalf("usnet sysctl -w printed %q", out)
	}
	if out := d.must("sysctl", "-n", "r", "net.ipv4.conf.ra.forwarding", "net/ipv4/conf/rb/forwarding"); out != "net.ipv4.conf.ra.forwarding = 1\nnet.ipv4.conf.rb.forwarding = 1\n" {
		t.Errorf("device forwarding: %q", out)
	}
	if out := d.must("ping", "-n", "a", "-c", "1", "10.78.2.1"); !strings.Contains(out, "1 received") {
		t.Fatalf("ping across r after ip_forward=1:\n%s", out)
	}
	// The default namespace and a are untouched.
	if out := d.must("sysctl", "--values", "net.ipv4.ip_forward"); out != "0\n" {
		t.Errorf("default namespace ip_forward %q", out)
	}
	all := d.must("sysctl", "-n", "r", "-a")
	lines := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i-1] >= lines[i] {
			t.Fatalf("sysctl -a not sorted at %q, %q", lines[i-1], lines[i])
		}
	}
	if !strings.Contains(all, "net.ipv4.ip_local_port_range = 32768\t60999\n") {
		t.Errorf("sysctl -a lacks the port range:\n%s", all)
	}
	if r := d.run(nil, "sysctl", "-n", "nope", "net.ipv4.ip_forward"); r.code() != 255 {
		t.Errorf("unknown namespace: exit %d, stderr %q", r.code(), r.stderr)
	}

	if os.Geteuid() != 0 {
		return
	}
	if err := os.Chmod(d.sock, 0o666); err != nil {
		t.Fatal(err)
	}
	asNobody := d.runAs(nobody())
	if r := asNobody("sysctl", "-n", "r", "net.ipv4.ip_forward"); r.err != nil || r.stdout != "net.ipv4.ip_forward = 1\n" {
		t.Errorf("nobody reads: %v %q %q", r.err, r.stdout, r.stderr)
	}
	if r := asNobody("sysctl", "-n", "r", "-w", "net.ipv4.ip_forward=0"); r.code() != 1 || r.stderr != "sysctl: permission denied on key \"net.ipv4.ip_forward\"\n" {
		t.Errorf("nobody writes: exit %d, stderr %q", r.code(), r.stderr)
	}
	if out := d.must("sysctl", "-n", "r", "--values", "net.ipv4.ip_forward"); out != "1\n" {
		t.Errorf("after nobody's refused write ip_forward is %q", out)
	}
	// ping_group_range decides who opens ICMP datagram sockets, at once.
	if r := asNobody("ping", "-n", "a", "-c", "1", "10.78.2.1"); r.code() != 2 {
		t.Errorf("nobody's ping before ping_group_range: exit %d, stderr %q", r.code(), r.stderr)
	}
	d.must("sysctl", "-n", "a", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647")
	if r := asNobody("ping", "-n", "a", "-c", "1", "10.78.2.1"); r.err != nil || !strings.Contains(r.stdout, "1 received") {
		t.Errorf("nobody's ping after ping_group_range=0 2147483647: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
}

// TestSysctlLikeProcps runs the same arguments through procps sysctl in
// a fresh kernel namespace and through usnet sysctl in a fresh usnet
// namespace and compares output and exit status.
func TestSysctlLikeProcps(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a kernel namespace")
	}
	if _, err := exec.LookPath("sysctl"); err != nil {
		t.Skip("no procps sysctl")
	}
	kns := fmt.Sprintf("usnet-sysctl-cli-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", kns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", kns).Run()
	d := startDaemon(t)
	d.must("ip", "netns", "add", "k")
	for _, args := range [][]string{
		{"net.ipv4.ip_default_ttl"},
		{"net.ipv4.ip_local_port_range", "net.ipv4.ping_group_range"},
		{"--values", "net.ipv4.ip_local_port_range"},
		{"net/ipv4/conf/lo/rp_filter"},
		{"net.ipv4.foo"},
		{"-e", "net.ipv4.foo"},
		{"-q", "net.ipv4.foo"},
		{"net.ipv4.foo", "net.ipv4.ip_default_ttl"},
		{"-w", "net.ipv4.foo=1"},
		{"-w", "net.ipv4.ip_default_ttl"},
		{"-w", "net.ipv4.ip_default_ttl=0", "net.ipv4.ip_default_ttl=65"},
		{"net.ipv4.ip_default_ttl=0x40"},
		{"-q", "-w", "net.ipv4.ip_default_ttl=63"},
		{"-w", "net.ipv4.ip_default_ttl=abc"},
		{"-w", "net.ipv4.ip_local_port_range=40000 50000"},
		{"-w", "net.ipv4.tcp_congestion_control=nosuch"},
		{"-w", "net.ipv4.tcp_available_congestion_control=reno"},
		{"-w", "net.ipv4.conf.lo.rp_filter=2"},
		{"net.ipv4.conf.nodev.forwarding"},
		{"net.ipv4.ip_forward=1"},
		{"net.ipv4.conf.all.forwarding", "net.ipv4.conf.lo.forwarding", "net.ipv4.conf.all.accept_redirects"},
		{"-a", "-r", `^net\.ipv4\.neigh\.lo\.(base_reach|retrans|unres|locktime)`},
		{"net.ipv4.neigh.lo.base_reachable_time", "net.ipv4.neigh.lo.retrans_time"},
		{"-w", "net.ipv4.neigh.lo.unres_qlen=3", "net.ipv4.neigh.lo.retrans_time=20"},
		{"net.ipv4.neigh.lo.unres_qlen_bytes", "net.ipv4.neigh.lo.retrans_time_ms"},
		{"net.ipv4.neigh.default.gc_thresh1"},
	} {
		kargs := append([]string{"netns", "exec", kns, "sysctl"}, args...)
		kc := exec.Command("ip", kargs...)
		var kout, kerr strings.Builder
		kc.Stdout, kc.Stderr = &kout, &kerr
		kc.Run()
		want := result{kout.String(), kerr.String(), nil}
		got := d.run(nil, append([]string{"sysctl", "-n", "k"}, args...)...)
		if got.stdout != want.stdout || got.stderr != want.stderr || got.code() != kc.ProcessState.ExitCode() {
			t.Errorf("sysctl %s:\nusnet  exit %d stdout %q stderr %q\nprocps exit %d stdout %q stderr %q",
				strings.Join(args, " "), got.code(), got.stdout, got.stderr,
				kc.ProcessState.ExitCode(), want.stdout, want.stderr)
		}
	}
}
