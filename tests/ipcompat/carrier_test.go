package ipcompat

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/iproute"
)

// carrierCase is a veth carrier scenario: setup commands, then the
// commands whose link notifications both monitors record. A command
// starts with the namespace it runs in, A or B; "@B" stands for B's name.
type carrierCase struct {
	name       string
	setup, ops []string
}

var carrierCases = []carrierCase{
	{"one-ns/A-then-B", []string{"A link add va type veth peer name vb"},
		[]string{"A link set va up", "A link set vb up"}},
	{"one-ns/B-then-A", []string{"A link add va type veth peer name vb"},
		[]string{"A link set vb up", "A link set va up"}},
	{"two-ns/A-then-B", []string{"A link add va type veth peer name vb netns @B"},
		[]string{"A link set va up", "B link set vb up"}},
	{"two-ns/B-then-A", []string{"A link add va type veth peer name vb netns @B"},
		[]string{"B link set vb up", "A link set va up"}},
	{"one-ns/A-down", []string{"A link add va type veth peer name vb", "A link set va up", "A link set vb up"},
		[]string{"A link set va down"}},
	{"two-ns/A-down", []string{"A link add va type veth peer name vb netns @B", "A link set va up", "B link set vb up"},
		[]string{"A link set va down"}},
	// Settled in between: linkwatch handles a down device's event in
	// its next full run, up to a second later (urgent-only runs skip
	// it), and until then va keeps the state it had up.
	{"one-ns/A-down-up", []string{"A link add va type veth peer name vb", "A link set va up", "A link set vb up"},
		[]string{"A link set va down", "@settle", "A link set va up"}},
	// Linkwatch runs as a work item that takes the RTNL after the
	// request: a second request sent within microseconds, as these are,
	// may take it first, and vb is then down when its event is handled
	// and not announced. Separate `ip` commands always leave linkwatch
	// the time, and usnet always runs it before the next request, so
	// the case waits for it (a short wait would do, a settle is sure).
	{"one-ns/both-down", []string{"A link add va type veth peer name vb", "A link set va up", "A link set vb up"},
		[]string{"A link set va down", "@settle", "A link set vb down"}},
}

// TestVethCarrierMonitorCompat brings veth ends up and down on kernel
// namespaces and on usnet daemon namespaces, the ends in one namespace
// or in two, and requires the same `ip monitor link` output in each
// namespace: a veth whose peer is up shows LOWER_UP in the RTM_NEWLINK
// of its own `link set up` (veth_open raises both carriers at once) and
// its operational state, with RUNNING, in the linkwatch notifications
// that follow, itself first; a peer that loses its carrier is announced
// by linkwatch alone.
func TestVethCarrierMonitorCompat(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ipcompat: needs root to create kernel network namespaces")
	}
	var u UsnetTarget
	u.start(t)
	for i, c := range carrierCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tag := fmt.Sprintf("%d-%d", os.Getpid(), i)
			kA := newKernelNetns(t, "usnet-car-a-"+tag)
			kB := newKernelNetns(t, "usnet-car-b-"+tag)
			uA, udial := u.Setup(t)
			uB := u.Peer(t)
			var kernel, usnet [2]string
			var wg sync.WaitGroup
			wg.Go(func() { kernel = monitorRun(t, c, [2]string{kA, kB}, iproute.DialKernel, 1500*time.Millisecond) })
			wg.Go(func() { usnet = monitorRun(t, c, [2]string{uA, uB}, udial, 200*time.Millisecond) })
			wg.Wait()
			for i, ns := range []string{"A", "B"} {
				if g, w := normalizeCarrier(usnet[i]), normalizeCarrier(kernel[i]); g != w {
					t.Errorf("namespace %s: monitor differs:\n--- usnet\n%s--- kernel\n%s", ns, g, w)
				}
			}
			if !strings.Contains(kernel[0], "va") {
				t.Errorf("the kernel's monitor of A saw nothing:\n%s", kernel[0])
			}
		})
	}
}

// monitorRun runs a case on namespaces ns (A, B) and returns what `ip
// monitor link` printed in each. settle is how long deferred link work
// takes (the kernel's linkwatch batches up to a second). It may run on
// a goroutine of its own: failures are reported with t.Errorf.
func monitorRun(t *testing.T, c carrierCase, ns [2]string, dial iproute.Dialer, settle time.Duration) [2]string {
	run := func(line string) {
		if line == "@settle" {
			time.Sleep(settle)
			return
		}
		if d, ok := strings.CutPrefix(line, "@wait "); ok { // the same on both sides
			w, err := time.ParseDuration(d)
			if err != nil {
				t.Errorf("%s: %v", line, err)
			}
			time.Sleep(w)
			return
		}
		where, rest, _ := strings.Cut(line, " ")
		n := ns[0]
		if where == "B" {
			n = ns[1]
		}
		args := append([]string{"-n", n}, strings.Fields(strings.ReplaceAll(rest, "@B", ns[1]))...)
		var e bytes.Buffer
		if code := iproute.Run(args, iproute.Options{Stderr: &e, Dial: dial}); code != 0 {
			t.Errorf("ip %s: exit %d: %s", strings.Join(args, " "), code, e.String())
		}
	}
	for _, l := range c.setup {
		run(l)
	}
	time.Sleep(settle)
	var out [2]bytes.Buffer
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ns {
		wg.Go(func() {
			var e bytes.Buffer
			if code := iproute.Run([]string{"-n", ns[i], "monitor", "link"},
				iproute.Options{Stdout: &out[i], Stderr: &e, Dial: dial, Done: done}); code != 0 {
				t.Errorf("ip -n %s monitor link: exit %d: %s", ns[i], code, e.String())
			}
		})
	}
	time.Sleep(500 * time.Millisecond) // both subscribed, even on a loaded machine
	for _, l := range c.ops {
		run(l)
	}
	time.Sleep(settle)
	close(done)
	wg.Wait()
	return [2]string{out[0].String(), out[1].String()}
}

// linkNetns is how a monitor names the peer's namespace: by name, when
// it finds it among the named namespaces, else by nsid. The namespaces
// are named differently on the two sides and the lookup on the kernel's
// can miss one being created by another case, so the name is dropped.
var linkNetns = regexp.MustCompile(` link-netns(id)? \S+`)

func normalizeCarrier(s string) string { return Normalize(linkNetns.ReplaceAllString(s, "")) }
