package ipcompat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/usnet/usnet/iproute"
)

// KindBridge is the bridge kind's script and its kernel recording (issue
// 8). Regenerate as root:
// SCRIPT=kind-bridge-script.txt OUT=kind-bridge-iproute2.txt bash tests/ipcompat/gen.sh
var KindBridge = Suite{"kind-bridge-script.txt", "kind-bridge-iproute2.txt"}

// bridgeNormalize removes what legitimately differs between the kernel's
// bridge and usnet's:
//   - the STP and garbage-collection timers count down in real time, so
//     their values depend on when the command ran;
//   - this machine's kernel lacks CONFIG_BRIDGE_VLAN_FILTERING and so
//     reports no vlan_protocol, vlan_default_pvid, vlan_stats_*; usnet's
//     bridge filters VLANs and reports them as a kernel with that option;
//   - a bridge ID holds the bridge's MAC, random unless a port gave it
//     one of the script's 02:00:00:00:00:xx addresses;
//   - rtnl's core reports no allmulti counter and a fixed tso_max_size
//     (see rtnl/doc.go); none of it is the bridge's doing.
var bridgeNormalize = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"(hello_timer|tcn_timer|topology_change_timer|gc_timer|hold_timer|message_age_timer|forward_delay_timer)":[0-9.]+`), `"$1":T`},
	{regexp.MustCompile(`(hello_timer|tcn_timer|topology_change_timer|gc_timer|hold_timer|message_age_timer|forward_delay_timer) +[0-9.]+ `), `$1 T `},
	{regexp.MustCompile(`"vlan_protocol":"[^"]*",|"(vlan_default_pvid|vlan_stats_enabled|vlan_stats_per_port)":[0-9]+,`), ``},
	{regexp.MustCompile(`vlan_protocol \S+ |(vlan_default_pvid|vlan_stats_enabled|vlan_stats_per_port) [0-9]+ `), ``},
	{regexp.MustCompile(` allmulti [0-9]+ |"allmulti":[0-9]+,`), ``},
	{regexp.MustCompile(`([0-9a-f]{4})\.(?:MAC|[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5})`), `$1.ID`},
	{regexp.MustCompile(`tso_max_size [0-9]+ |"tso_max_size":[0-9]+,`), ``},
}

func bridgeNorm(s string) string {
	for _, n := range bridgeNormalize {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// bridgeOnlyNormalized reports whether a failure is nothing but the
// differences bridgeNormalize removes.
func bridgeOnlyNormalized(report string) bool {
	_, rest, ok := strings.Cut(report, "stdout:\n--- usnet ip\n")
	if !ok || strings.Contains(report, "exit status") || strings.Contains(report, "stderr:") {
		return false
	}
	got, want, ok := strings.Cut(rest, "--- iproute2\n")
	return ok && bridgeNorm(got) == bridgeNorm(want)
}

func TestKernelKindBridge(t *testing.T) {
	for _, f := range runSuite(t, KernelTarget{}, KindBridge) {
		if bridgeOnlyNormalized(f.Report) {
			continue
		}
		t.Error(f.Report)
	}
}

func TestUsnetKindBridge(t *testing.T) {
	for _, f := range runSuite(t, &UsnetTarget{}, KindBridge) {
		if bridgeOnlyNormalized(f.Report) {
			continue
		}
		t.Error(f.Report)
	}
}

// bridgeCmdSetup builds the same two-port bridge in a namespace with
// `ip` (usnet ip through dial).
var bridgeCmdSetup = []string{
	"link add br0 type bridge",
	"link add e0 type veth peer name e1",
	"link add e2 type veth peer name e3",
	"link set e0 address 02:00:00:00:00:10",
	"link set e1 address 02:00:00:00:00:11",
	"link set e2 address 02:00:00:00:00:12",
	"link set e3 address 02:00:00:00:00:13",
	"link set e0 master br0",
	"link set e2 master br0",
}

// bridgeCmds are `bridge` commands whose output and exit status usnet's
// bridge must reproduce. A leading "!" marks a command whose output is
// not compared (only its status): it changes state.
var bridgeCmds = []string{
	"!fdb add 02:00:00:00:aa:01 dev e0 master static",
	"!fdb add 02:00:00:00:aa:02 dev e2 master",
	"!fdb add 02:00:00:00:aa:03 dev e2 master dynamic",
	"!fdb add 02:00:00:00:aa:01 dev e0 master static",
	"!fdb add 02:00:00:00:aa:04 dev e9 master",
	"fdb show br br0",
	"-j fdb show br br0",
	"!fdb del 02:00:00:00:aa:02 dev e2 master",
	"!fdb del 02:00:00:00:aa:09 dev e2 master",
	"fdb show dev e2",
	"-j fdb show dev e2",
	"link show",
	"-j link show",
	"-d link show dev e0",
	"-d -j link show dev e0",
	"!link set dev e0 cost 7 priority 3 hairpin on learning off flood off",
	"-d link show dev e0",
	"!link set dev e0 priority 99",
	"!link set dev e0 cost 0",
	"-d -j link show",
}

// bridgeFDBNorm drops what this comparison cannot share with the kernel:
// the devices' own multicast addresses ("self" entries; usnet devices
// keep no address lists) and the per-VLAN copies of entries (this
// kernel lacks CONFIG_BRIDGE_VLAN_FILTERING, usnet's bridge keeps the
// default VLAN 1 as a kernel with it does). JSON arrays and text lines
// are compared as sets: the kernel dumps its hash chains.
func bridgeFDBNorm(s string) string {
	var arr []map[string]any
	if json.Unmarshal([]byte(s), &arr) == nil && strings.HasPrefix(s, "[") {
		var keep []string
		for _, o := range arr {
			if fl, ok := o["flags"].([]any); ok && slices.Contains(fl, any("self")) {
				continue
			}
			if _, ok := o["vlan"]; ok {
				continue
			}
			b, _ := json.Marshal(o)
			keep = append(keep, string(b))
		}
		sort.Strings(keep)
		return strings.Join(keep, "\n")
	}
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, " self ") || strings.Contains(l, " vlan ") {
			continue
		}
		keep = append(keep, l)
	}
	sort.Strings(keep)
	return strings.Join(keep, "\n")
}

// TestBridgeCommand runs iproute2's bridge against a kernel namespace and
// usnet's RunBridge against the kernel and against a usnet daemon, and
// compares all three.
func TestBridgeCommand(t *testing.T) {
	if _, err := exec.LookPath("bridge"); err != nil {
		t.Skip("iproute2's bridge is not installed")
	}
	kns, kdial := KernelTarget{}.Setup(t)
	u := &UsnetTarget{}
	uns, udial := u.Setup(t)
	for _, line := range bridgeCmdSetup {
		for _, x := range []struct {
			ns   string
			dial iproute.Dialer
		}{{kns, kdial}, {uns, udial}} {
			var errb bytes.Buffer
			if rc := iproute.Run(append([]string{"-n", x.ns}, strings.Fields(line)...), iproute.Options{Dial: x.dial, Stderr: &errb, Stdout: io.Discard}); rc != 0 {
				t.Fatalf("ip %s in %s: %d %s", line, x.ns, rc, errb.String())
			}
		}
	}
	for _, line := range bridgeCmds {
		compare := !strings.HasPrefix(line, "!")
		args := strings.Fields(strings.TrimPrefix(line, "!"))
		var kout, kerr bytes.Buffer
		cmd := exec.Command("bridge", append([]string{"-n", kns}, args...)...)
		cmd.Stdout, cmd.Stderr = &kout, &kerr
		krc := 0
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatal(err)
			}
			krc = ee.ExitCode()
		}
		targets := []struct {
			name string
			ns   string
			dial iproute.Dialer
		}{{"usnet", uns, udial}, {"kernel", kns, kdial}}
		if !compare {
			targets = targets[:1] // changes go to the kernel once, by iproute2
		}
		for _, x := range targets {
			var out, errb bytes.Buffer
			rc := iproute.RunBridge(append([]string{"-n", x.ns}, args...), iproute.Options{Dial: x.dial, Stdout: &out, Stderr: &errb})
			if rc != krc || errb.String() != kerr.String() {
				t.Errorf("bridge %s (%s): exit %d stderr %q, iproute2: exit %d stderr %q", line, x.name, rc, errb.String(), krc, kerr.String())
			}
			if !compare {
				continue
			}
			g, w := Normalize(out.String()), Normalize(kout.String())
			if strings.Contains(line, "fdb") {
				g, w = bridgeFDBNorm(g), bridgeFDBNorm(w)
			} else {
				g, w = bridgeNorm(g), bridgeNorm(w)
			}
			if g != w {
				t.Errorf("bridge %s (%s):\n--- usnet bridge\n%s\n--- iproute2\n%s", line, x.name, g, w)
			}
		}
	}
}

// TestUsnetBridgeVlanCommand: `bridge vlan add/del/show` against usnet
// (this machine's kernel has no bridge VLAN filtering to compare with;
// the expected text is iproute2 6.1's layout).
func TestUsnetBridgeVlanCommand(t *testing.T) {
	u := &UsnetTarget{}
	ns, dial := u.Setup(t)
	run := func(tool string, line string) (int, string, string) {
		var out, errb bytes.Buffer
		args := append([]string{"-n", ns}, strings.Fields(line)...)
		opt := iproute.Options{Dial: dial, Stdout: &out, Stderr: &errb}
		if tool == "ip" {
			return iproute.Run(args, opt), out.String(), errb.String()
		}
		return iproute.RunBridge(args, opt), out.String(), errb.String()
	}
	for _, l := range []string{"link add br0 type bridge vlan_filtering 1", "link add e0 type veth peer name e1", "link set e0 master br0"} {
		if rc, _, e := run("ip", l); rc != 0 {
			t.Fatalf("ip %s: %d %s", l, rc, e)
		}
	}
	for _, l := range []string{"vlan add dev e0 vid 10-12 untagged", "vlan add dev e0 vid 20 pvid", "vlan del dev e0 vid 1", "vlan add dev br0 vid 20 self"} {
		if rc, _, e := run("bridge", l); rc != 0 {
			t.Fatalf("bridge %s: %d %s", l, rc, e)
		}
	}
	_, out, _ := run("bridge", "vlan show")
	want := "port              vlan-id  \n" +
		"br0               1 PVID Egress Untagged\n" +
		"                  20\n" +
		"e0                10-12 Egress Untagged\n" +
		"                  20 PVID\n"
	if out != want {
		t.Errorf("bridge vlan show:\n%s\nwant:\n%s", out, want)
	}
	_, out, _ = run("bridge", "-j vlan show dev e0")
	wantJ := `[{"ifname":"e0","vlans":[{"vlan":10,"vlanEnd":12,"flags":["Egress Untagged"]},{"vlan":20,"flags":["PVID"]}]}]` + "\n"
	if out != wantJ {
		t.Errorf("bridge -j vlan show dev e0:\n%s\nwant:\n%s", out, wantJ)
	}
	if rc, _, e := run("bridge", "vlan del dev e0 vid 30"); rc != 255 || !strings.Contains(e, "No such file or directory") {
		t.Errorf("deleting a missing VLAN: %d %q", rc, e)
	}
	// The learned and local FDB entries carry their VLAN under filtering.
	_, out, _ = run("bridge", "fdb show dev e0")
	if !strings.Contains(out, " vlan 20 master br0 permanent") {
		t.Errorf("fdb show dev e0:\n%s", out)
	}
}
