package ipcompat

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/iproute"
)

// kindCarrierCases are carrier scenarios of the kinds whose carrier
// follows other devices or the device's own open and stop: the bridge
// (its ports' carrier, br_port_carrier_check and br_port_state_selection),
// macvlan on a veth (the lower's carrier through NETDEV_CHANGE,
// netif_stacked_transfer_operstate) and VXLAN (no carrier reporting at
// all: UNKNOWN while up). "@settle" waits for linkwatch: these events are
// not urgent on the kernel (a bridge's or a down device's), so a run may
// come up to two seconds later (linkwatch's one-second rate limit, rounded
// to a whole second).
var kindCarrierCases = []carrierCase{
	{"bridge/up-no-ports", []string{"A link add br0 type bridge"},
		[]string{"A link set br0 up", "@settle", "A link set br0 down", "@settle", "A link set br0 up"}},
	{"bridge/port-up-down", []string{"A link add br0 type bridge", "A link set br0 up",
		"A link add va type veth peer name vb", "A link set va master br0", "A link set vb up"},
		[]string{"A link set va up", "@settle", "A link set va down", "@settle", "A link set va up"}},
	{"bridge/peer-down-up", []string{"A link add br0 type bridge", "A link set br0 up",
		"A link add va type veth peer name vb", "A link set va master br0", "A link set vb up", "A link set va up"},
		[]string{"A link set vb down", "@settle", "A link set vb up"}},
	{"bridge/first-port", []string{"A link add br0 type bridge", "A link set br0 up",
		"A link add va type veth peer name vb", "A link set vb up", "A link set va up"},
		[]string{"A link set va master br0", "@settle"}},
	{"bridge/port-added-down", []string{"A link add br0 type bridge", "A link set br0 up",
		"A link add va type veth peer name vb", "A link set vb up"},
		[]string{"A link set va master br0", "@settle", "A link set va up", "@settle"}},
	{"bridge/last-port-removed", []string{"A link add br0 type bridge", "A link set br0 up",
		"A link add va type veth peer name vb", "A link set va master br0", "A link set vb up", "A link set va up"},
		[]string{"A link set va nomaster", "@settle"}},
	{"bridge/down-up-with-port", []string{"A link add br0 type bridge", "A link set br0 up",
		"A link add va type veth peer name vb", "A link set va master br0", "A link set vb up", "A link set va up"},
		[]string{"A link set br0 down", "@settle", "A link set br0 up"}},
	// With STP the port listens and learns for a forward delay each
	// (2 s, the least the kernel takes) before it forwards: the bridge
	// loses its carrier when the port is enabled and gets it back when
	// the forward delay timer makes the port forward (netif_carrier_on in
	// br_forward_delay_timer_expired).
	{"bridge/stp-forward-delay", []string{"A link add br0 type bridge stp_state 1 forward_delay 200", "A link set br0 up",
		"A link add va type veth peer name vb", "A link set va master br0", "A link set vb up"},
		[]string{"A link set va up", "@wait 6s", "@settle"}},
	{"macvlan/lower-down-up", []string{"A link add va type veth peer name vb",
		"A link add m0 link va type macvlan", "A link set vb up", "A link set va up", "A link set m0 up"},
		[]string{"A link set va down", "@settle", "A link set va up"}},
	{"macvlan/peer-down-up", []string{"A link add va type veth peer name vb",
		"A link add m0 link va type macvlan", "A link set vb up", "A link set va up", "A link set m0 up"},
		[]string{"A link set vb down", "@settle", "A link set vb up"}},
	// x0/x1 in B keep vb's ifindex from being va's: a veth whose peer
	// has its own ifindex (in another namespace) is no urgent linkwatch
	// event on the kernel (linkwatch_urgent_event compares the two), and
	// a run within a second of the last takes only urgent ones, so m0
	// would be announced before va at times.
	{"macvlan/up-before-lower", []string{"B link add x0 type veth peer name x1",
		"A link add va type veth peer name vb netns @B",
		"A link add m0 link va type macvlan", "B link set vb up"},
		[]string{"A link set m0 up", "@settle", "A link set va up", "@settle", "A link set m0 down", "@settle", "A link set m0 up"}},
	{"macvlan/created-on-live-lower", []string{"A link add va type veth peer name vb",
		"A link set vb up", "A link set va up", "@settle", "A link add m0 link va type macvlan"},
		[]string{"A link set m0 up", "@settle", "A link set va down"}},
	{"macvlan/other-ns", []string{"A link add va type veth peer name vb",
		"A link add m0 link va type macvlan", "A link set m0 netns @B", "A link set vb up", "B link set m0 up"},
		[]string{"A link set va up", "@settle", "A link set va down"}},
	// Three linkwatch runs in a row: the port's state enables it, the
	// bridge's carrier follows, the macvlan on the bridge follows that.
	{"macvlan/on-bridge", []string{"A link add br0 type bridge", "A link set br0 up",
		"A link add va type veth peer name vb", "A link set va master br0", "A link set vb up",
		"A link add m0 link br0 type macvlan", "A link set m0 up"},
		[]string{"A link set va up", "@settle", "A link set vb down", "@settle"}},
	{"vxlan/up-down", []string{"A link add vx0 type vxlan id 5 dstport 4789"},
		[]string{"A link set vx0 up", "@settle", "A link set vx0 down", "@settle", "A link set vx0 up"}},
}

// TestKindCarrierMonitorCompat runs kindCarrierCases on kernel namespaces
// and on usnet daemon namespaces and requires the same `ip monitor link`
// output in each namespace. The kernel's bridge also sends AF_BRIDGE
// link messages (br_ifinfo_notify), which usnet does not: they are left
// out (see normalizeKindCarrier).
func TestKindCarrierMonitorCompat(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ipcompat: needs root to create kernel network namespaces")
	}
	var u UsnetTarget
	u.start(t)
	for i, c := range kindCarrierCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tag := fmt.Sprintf("%d-%d", os.Getpid(), i)
			kA := newKernelNetns(t, "usnet-kcar-a-"+tag)
			kB := newKernelNetns(t, "usnet-kcar-b-"+tag)
			uA, udial := u.Setup(t)
			uB := u.Peer(t)
			var kernel, usnet [2]string
			var wg sync.WaitGroup
			wg.Go(func() { kernel = monitorRun(t, c, [2]string{kA, kB}, iproute.DialKernel, kernelLinkwatchSettle) })
			wg.Go(func() { usnet = monitorRun(t, c, [2]string{uA, uB}, udial, 200*time.Millisecond) })
			wg.Wait()
			for i, ns := range []string{"A", "B"} {
				if g, w := normalizeKindCarrier(usnet[i]), normalizeKindCarrier(kernel[i]); g != w {
					t.Errorf("namespace %s: monitor differs:\n--- usnet\n%s--- kernel\n%s", ns, g, w)
				}
			}
			if kernel[0] == "" {
				t.Errorf("the kernel's monitor of A saw nothing")
			}
		})
	}
}

// kernelLinkwatchSettle outlasts the kernel's linkwatch delay for events
// that are not urgent: at most a second after the previous run, rounded
// up to a whole second (round_jiffies_relative), so under two seconds.
const kernelLinkwatchSettle = 2500 * time.Millisecond

// normalizeKindCarrier is normalizeCarrier without the kernel bridge's
// AF_BRIDGE link messages: a monitor prints them without a qdisc, which
// every RTM_NEWLINK of the device family carries.
func normalizeKindCarrier(s string) string {
	var b strings.Builder
	keep := true
	for _, l := range strings.SplitAfter(s, "\n") {
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, " ") {
			keep = strings.Contains(l, " qdisc ")
		}
		if keep {
			b.WriteString(l)
		}
	}
	return normalizeCarrier(b.String())
}
