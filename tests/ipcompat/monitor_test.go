package ipcompat

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/iproute"
)

// TestMonitorCompat runs iproute2's `ip monitor all` and `usnet ip
// monitor all` side by side on one kernel namespace while the namespace
// is configured, and requires identical output.
func TestMonitorCompat(t *testing.T) {
	ipBin, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("ipcompat: iproute2's ip is not installed")
	}
	ns, dial := KernelTarget{}.Setup(t)
	for _, obj := range []string{"all", "route"} {
		t.Run(obj, func(t *testing.T) {
			var ref bytes.Buffer
			cmd := exec.Command(ipBin, "-n", ns, "monitor", obj)
			cmd.Stdout = &ref
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var got, gotErr bytes.Buffer
			done, finished := make(chan struct{}), make(chan int)
			go func() {
				finished <- iproute.Run([]string{"-n", ns, "monitor", obj},
					iproute.Options{Stdout: &got, Stderr: &gotErr, Dial: dial, Done: done})
			}()
			time.Sleep(1500 * time.Millisecond) // both subscribed, even on a loaded machine
			for _, line := range []string{
				"link add m0 type veth peer name m1", "link set m0 up", "link set m1 up",
				"addr add 10.9.0.1/24 dev m0", "route add 10.8.0.0/16 via 10.9.0.2",
				"rule add pref 10 from 1.2.3.4 lookup 10",
				"neigh add 10.9.0.7 lladdr 00:11:22:33:44:55 dev m0", "neigh del 10.9.0.7 dev m0",
				"rule del pref 10", "route del 10.8.0.0/16", "addr del 10.9.0.1/24 dev m0", "link del m0",
			} {
				var e bytes.Buffer
				if code := iproute.Run(append([]string{"-n", ns}, strings.Fields(line)...),
					iproute.Options{Stderr: &e, Dial: dial}); code != 0 {
					t.Fatalf("ip %s: exit %d: %s", line, code, e.String())
				}
			}
			time.Sleep(2 * time.Second)
			close(done)
			if code := <-finished; code != 0 {
				t.Errorf("usnet ip monitor: exit %d: %s", code, gotErr.String())
			}
			cmd.Process.Kill()
			cmd.Wait()
			if !monitorEqual(got.String(), ref.String(), "m0", "m1") {
				t.Errorf("monitor %s differs:\n--- usnet ip\n%s--- iproute2\n%s", obj, got.String(), ref.String())
			}
			if n := strings.Count(ref.String(), "\n"); n < 5 {
				t.Errorf("iproute2 printed only %d lines", n)
			}
		})
	}
}

// TestLifetimeMonitorCompat: an address added with valid_lft 2
// preferred_lft 1 on a kernel namespace (iproute2 `ip` and `ip monitor`)
// and on a usnet daemon namespace (`usnet ip` and `usnet ip monitor`)
// gives the same notifications: added, deprecated after about a second
// (RTM_NEWADDR, lifetimes 1/0), deleted with its routes after two.
func TestLifetimeMonitorCompat(t *testing.T) {
	ipBin, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("ipcompat: iproute2's ip is not installed")
	}
	setup := []string{"link add m0 type veth peer name m1", "link set m1 up", "link set m0 up"}
	add := "addr add 10.9.0.1/24 dev m0 valid_lft 2 preferred_lft 1"
	kns, _ := KernelTarget{}.Setup(t)
	var u UsnetTarget
	uns, udial := u.Setup(t)
	for _, line := range setup {
		if out, err := exec.Command(ipBin, append([]string{"-n", kns}, strings.Fields(line)...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", line, err, out)
		}
		var e bytes.Buffer
		if code := iproute.Run(append([]string{"-n", uns}, strings.Fields(line)...), iproute.Options{Stderr: &e, Dial: udial}); code != 0 {
			t.Fatalf("usnet ip %s: exit %d: %s", line, code, e.String())
		}
	}
	time.Sleep(1500 * time.Millisecond) // carrier settled on both
	var ref bytes.Buffer
	cmd := exec.Command(ipBin, "-n", kns, "monitor", "address", "route")
	cmd.Stdout = &ref
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got, gotErr bytes.Buffer
	done, finished := make(chan struct{}), make(chan int)
	go func() {
		finished <- iproute.Run([]string{"-n", uns, "monitor", "address", "route"},
			iproute.Options{Stdout: &got, Stderr: &gotErr, Dial: udial, Done: done})
	}()
	time.Sleep(500 * time.Millisecond)
	if out, err := exec.Command(ipBin, append([]string{"-n", kns}, strings.Fields(add)...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v %s", add, err, out)
	}
	var e bytes.Buffer
	if code := iproute.Run(append([]string{"-n", uns}, strings.Fields(add)...), iproute.Options{Stderr: &e, Dial: udial}); code != 0 {
		t.Fatalf("usnet ip %s: exit %d: %s", add, code, e.String())
	}
	time.Sleep(3500 * time.Millisecond)
	close(done)
	if code := <-finished; code != 0 {
		t.Errorf("usnet ip monitor: exit %d: %s", code, gotErr.String())
	}
	cmd.Process.Kill()
	cmd.Wait()
	if g, w := Normalize(got.String()), Normalize(ref.String()); g != w {
		t.Errorf("monitor differs:\n--- usnet ip on usnet\n%s--- iproute2 on the kernel\n%s", g, w)
	}
	if !strings.Contains(ref.String(), "deprecated") || !strings.Contains(ref.String(), "Deleted 10.9.0.0/24") {
		t.Errorf("the kernel did not expire the address as expected:\n%s", ref.String())
	}
}

// ifIndexName is how iproute2 names a device it could not look up.
var ifIndexName = regexp.MustCompile(`\bif[0-9]+\b`)

// monitorEqual compares two monitor outputs line by line. A device named
// "ifN" on one side may be any of names on the other: both monitors look
// a device up by index when a message names one they have not seen, and
// a device deleted meanwhile (the script ends with "link del m0") can no
// longer be found, by iproute2 (CI saw "if5") or by usnet.
func monitorEqual(got, ref string, names ...string) bool {
	g, r := strings.Split(got, "\n"), strings.Split(ref, "\n")
	if len(g) != len(r) {
		return false
	}
	for i := range g {
		if g[i] == r[i] || sameBut(g[i], r[i], names) || sameBut(r[i], g[i], names) {
			continue
		}
		return false
	}
	return true
}

// sameBut reports whether a, its "ifN" replaced by one of names, is b.
func sameBut(a, b string, names []string) bool {
	if !ifIndexName.MatchString(a) {
		return false
	}
	for _, n := range names {
		if ifIndexName.ReplaceAllLiteralString(a, n) == b {
			return true
		}
	}
	return false
}

func TestMonitorEqual(t *testing.T) {
	ref := "Deleted 10.9.0.0/24 dev if5 proto kernel\nx\n"
	if !monitorEqual("Deleted 10.9.0.0/24 dev m0 proto kernel\nx\n", ref, "m0", "m1") {
		t.Error("an unresolved index on iproute2's side must match the name")
	}
	if monitorEqual("Deleted 10.9.0.0/24 dev m0 proto static\nx\n", ref, "m0", "m1") {
		t.Error("other differences must still count")
	}
	if monitorEqual("Deleted 10.9.0.0/24 dev eth9 proto kernel\nx\n", ref, "m0", "m1") {
		t.Error("only the script's devices may stand for ifN")
	}
}
