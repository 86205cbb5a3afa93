package fibcompat

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// step is one line of kernel.txt with what the kernel answered.
type step struct {
	line     int
	args     []string
	exit     int
	out, err []string
}

type config struct {
	name  string
	steps []step
}

func load(t *testing.T) []config {
	t.Helper()
	f, err := os.Open("testdata/kernel.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cfgs []config
	var cur *step
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "exit "):
			cur.exit, _ = strconv.Atoi(l[5:])
		case strings.HasPrefix(l, "out "):
			cur.out = append(cur.out, l[4:])
		case strings.HasPrefix(l, "err "):
			cur.err = append(cur.err, l[4:])
		case strings.HasPrefix(l, "config "):
			cfgs = append(cfgs, config{name: l[7:]})
			cur = &step{}
		default:
			c := &cfgs[len(cfgs)-1]
			c.steps = append(c.steps, step{line: n, args: strings.Fields(l)})
			cur = &c.steps[len(c.steps)-1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cfgs
}

// world is a usnet namespace the configuration is replayed on.
type world struct {
	s  *stack.Stack
	ns *stack.Namespace
}

func newWorld(t *testing.T) *world {
	s, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := s.Add("fibc")
	if err != nil {
		t.Fatal(err)
	}
	return &world{s: s, ns: ns}
}

func (w *world) settle() { w.s.Sim.RunFor(10 * time.Millisecond) }

func (w *world) ifindex(name string) (int, error) {
	d := w.ns.Dev.ByName(name)
	if d == nil {
		return 0, fmt.Errorf("no device %q", name)
	}
	return d.Ifindex(), nil
}

// TestKernelRouteGet replays every configuration and compares each
// lookup with the kernel's answer.
func TestKernelRouteGet(t *testing.T) {
	cfgs := load(t)
	lookups, commands, failed := 0, 0, 0
	for _, c := range cfgs {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			for _, st := range c.steps {
				switch st.args[0] {
				case "ip":
					err := w.ip(st.args[1:])
					if (err == nil) != (st.exit == 0) {
						t.Fatalf("line %d %q: usnet %v, kernel exit %d %v", st.line, st.args, err, st.exit, st.err)
					}
					if err != nil {
						commands++
						if got, want := ipErrText(err), strings.Join(st.err, " "); !strings.EqualFold(got, want) {
							failed++
							t.Errorf("line %d %s: usnet says %q, the kernel %q", st.line, strings.Join(st.args, " "), got, want)
						}
					}
					w.settle()
				case "sysctl":
					if err := w.sysctl(st.args[1]); err != nil {
						t.Fatalf("line %d: %v", st.line, err)
					}
				case "get":
					lookups++
					if msg := w.compareGet(st); msg != "" {
						if why, ok := knownDeviations[c.name+": "+strings.Join(st.args, " ")]; ok {
							t.Logf("line %d %s: known deviation (%s): %s", st.line, strings.Join(st.args, " "), why, msg)
							continue
						}
						failed++
						t.Errorf("line %d %s:\n%s", st.line, strings.Join(st.args, " "), msg)
					}
				case "spread":
					lookups++
					if msg := w.compareSpread(st); msg != "" {
						failed++
						t.Errorf("line %d %s: %s", st.line, strings.Join(st.args, " "), msg)
					}
				}
			}
		})
	}
	t.Logf("%d lookups and %d failing commands compared with the kernel, %d differ", lookups, commands, failed)
	if lookups < 60 {
		t.Fatalf("only %d lookups recorded; the suite promises at least 60", lookups)
	}
}

// knownDeviations lists lookups where usnet knowingly differs from the
// kernel, with the reason. Empty: every recorded lookup matches.
var knownDeviations = map[string]string{}

// ip applies one ip command (the subset cases.txt uses).
func (w *world) ip(a []string) error {
	switch {
	case len(a) >= 7 && a[0] == "link" && a[1] == "add" && a[3] == "type" && a[4] == "veth":
		_, _, err := veth.Create(veth.End{Table: w.ns.Dev, Name: a[2]}, veth.End{Table: w.ns.Dev, Name: a[7]})
		return err
	case len(a) == 4 && a[0] == "link" && a[1] == "set":
		d := w.ns.Dev.ByName(a[2])
		if d == nil {
			return fmt.Errorf("no device %q", a[2])
		}
		if a[3] == "up" {
			return d.Up()
		}
		d.Down()
		return nil
	case len(a) == 5 && a[0] == "addr" && a[1] == "add" && a[3] == "dev":
		p, err := netip.ParsePrefix(a[2])
		if err != nil {
			return err
		}
		d := w.ns.Dev.ByName(a[4])
		if d == nil {
			return fmt.Errorf("no device %q", a[4])
		}
		_, err = w.ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: p.Addr(), Address: p.Addr(), Prefix: p})
		return err
	case len(a) >= 3 && a[0] == "route":
		flags, ok := map[string]uint16{"add": unix.NLM_F_CREATE | unix.NLM_F_EXCL, "append": unix.NLM_F_CREATE | unix.NLM_F_APPEND,
			"replace": unix.NLM_F_CREATE | unix.NLM_F_REPLACE, "del": 0}[a[1]]
		if !ok {
			break
		}
		r, err := w.parseRoute(a[2:], a[1] == "del")
		if err != nil {
			return err
		}
		if a[1] == "del" {
			return w.ns.FIB.Delete(r, fib.Info{})
		}
		return w.ns.FIB.Add(r, flags, fib.Info{})
	case len(a) >= 3 && a[0] == "rule" && (a[1] == "add" || a[1] == "del"):
		r, err := w.parseRule(a[2:], a[1] == "del")
		if err != nil {
			return err
		}
		if a[1] == "del" {
			return w.ns.FIB.DelRule(r, fib.Info{})
		}
		return w.ns.FIB.AddRule(r, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{})
	}
	return fmt.Errorf("unsupported ip command %q", a)
}

// sysctl applies one net.ipv4 setting.
func (w *world) sysctl(kv string) error {
	k, v, _ := strings.Cut(kv, "=")
	n, err := strconv.Atoi(v)
	if err != nil {
		return err
	}
	l := w.ns.IPv4
	switch {
	case k == "net.ipv4.ip_forward":
		l.SetForwarding(n != 0)
	case k == "net.ipv4.fib_multipath_hash_policy":
		w.ns.FIB.Sysctl().MultipathHashPolicy = n
	case k == "net.ipv4.conf.all.rp_filter":
		l.All.RPFilter = n
	case k == "net.ipv4.conf.default.rp_filter":
		l.Deflt.RPFilter = n
	case strings.HasPrefix(k, "net.ipv4.conf.") && strings.HasSuffix(k, ".rp_filter"):
		idx, err := w.ifindex(strings.TrimSuffix(strings.TrimPrefix(k, "net.ipv4.conf."), ".rp_filter"))
		if err != nil {
			return err
		}
		l.Conf(idx).RPFilter = n
	default:
		return fmt.Errorf("unsupported sysctl %s", k)
	}
	return nil
}

var routeTypes = map[string]uint8{
	"unicast": unix.RTN_UNICAST, "local": unix.RTN_LOCAL, "broadcast": unix.RTN_BROADCAST,
	"blackhole": unix.RTN_BLACKHOLE, "unreachable": unix.RTN_UNREACHABLE, "prohibit": unix.RTN_PROHIBIT,
	"throw": unix.RTN_THROW, "multicast": unix.RTN_MULTICAST, "anycast": unix.RTN_ANYCAST,
}

func typeName(t uint8) string {
	for k, v := range routeTypes {
		if v == t {
			return k
		}
	}
	return strconv.Itoa(int(t))
}

func parseNum(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 0, 32)
	return uint32(v), err
}

// parseRoute turns `ip route` arguments into a Route the way iproute2
// fills the request: for additions protocol boot, type unicast and scope
// link for a unicast route without gateway; for deletions type, protocol
// and scope (RT_SCOPE_NOWHERE) unspecified.
func (w *world) parseRoute(a []string, del bool) (fib.Route, error) {
	r := fib.Route{Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT}
	if del {
		r = fib.Route{Table: unix.RT_TABLE_MAIN, Scope: unix.RT_SCOPE_NOWHERE}
	}
	if t, ok := routeTypes[a[0]]; ok {
		r.Type = t
		a = a[1:]
	}
	if a[0] == "default" {
		a[0] = "0.0.0.0/0"
	}
	p, err := netip.ParsePrefix(a[0])
	if err != nil {
		return r, err
	}
	r.Dst = p
	var nh fib.Nexthop
	var nhs []fib.Nexthop
	hasGw := false
	for i := 1; i < len(a); i++ {
		var v uint32
		next := func() string { i++; return a[i] }
		switch a[i] {
		case "via":
			g, err := netip.ParseAddr(next())
			if err != nil {
				return r, err
			}
			nh.Gateway, hasGw = g, true
		case "dev":
			if nh.Ifindex, err = w.ifindex(next()); err != nil {
				return r, err
			}
		case "src":
			if r.Prefsrc, err = netip.ParseAddr(next()); err != nil {
				return r, err
			}
		case "onlink":
			nh.Flags |= unix.RTNH_F_ONLINK
		case "weight":
			v, err = parseNum(next())
			nh.Weight = int(v)
		case "nexthop":
			if nh != (fib.Nexthop{}) {
				nhs = append(nhs, nh)
			}
			nh = fib.Nexthop{}
			hasGw = true // multipath: iproute2 leaves scope universe
		case "table":
			r.Table, err = parseNum(next())
		case "metric":
			r.Priority, err = parseNum(next())
		case "tos":
			v, err = parseNum(next())
			r.TOS = uint8(v)
		case "scope":
			switch next() {
			case "link":
				r.Scope = unix.RT_SCOPE_LINK
			case "host":
				r.Scope = unix.RT_SCOPE_HOST
			}
		case "mtu":
			if a[i+1] == "lock" {
				i++
				r.Metrics.Lock |= 1 << unix.RTAX_MTU
			}
			r.Metrics.MTU, err = parseNum(next())
		case "advmss":
			r.Metrics.AdvMSS, err = parseNum(next())
		default:
			return r, fmt.Errorf("unsupported route option %q", a[i])
		}
		if err != nil {
			return r, err
		}
	}
	if nh != (fib.Nexthop{}) || len(nhs) == 0 {
		nhs = append(nhs, nh)
	}
	if del {
		if nhs[0] != (fib.Nexthop{}) || len(nhs) > 1 {
			r.Nexthops = nhs
		}
		return r, nil
	}
	switch r.Type {
	case unix.RTN_UNICAST:
		if r.Scope == 0 && !hasGw {
			r.Scope = unix.RT_SCOPE_LINK
		}
		r.Nexthops = nhs
	case unix.RTN_LOCAL:
		r.Scope = unix.RT_SCOPE_HOST
		r.Nexthops = nhs
	}
	return r, nil
}

var protoNums = map[string]uint8{"tcp": unix.IPPROTO_TCP, "udp": unix.IPPROTO_UDP, "icmp": unix.IPPROTO_ICMP}

func parseProto(s string) (uint8, error) {
	if p, ok := protoNums[s]; ok {
		return p, nil
	}
	v, err := parseNum(s)
	return uint8(v), err
}

func parsePorts(s string) (fib.PortRange, error) {
	lo, hi, found := strings.Cut(s, "-")
	a, err := parseNum(lo)
	if err != nil {
		return fib.PortRange{}, err
	}
	b := a
	if found {
		if b, err = parseNum(hi); err != nil {
			return fib.PortRange{}, err
		}
	}
	return fib.PortRange{Start: uint16(a), End: uint16(b)}, nil
}

// parseRule turns `ip rule` arguments into a Rule (for deletions, with
// no action unless one is given).
func (w *world) parseRule(a []string, del bool) (fib.Rule, error) {
	r := fib.Rule{Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1, SuppressIfgroup: -1, Protocol: unix.RTPROT_BOOT}
	if del {
		r.Action, r.Protocol = 0, 0
	}
	for i := 0; i < len(a); i++ {
		var err error
		var v uint32
		next := func() string { i++; return a[i] }
		switch a[i] {
		case "not":
			r.Flags |= unix.FIB_RULE_INVERT
		case "from":
			r.Src, err = parsePrefix(next())
		case "to":
			r.Dst, err = parsePrefix(next())
		case "iif":
			r.IIf = next()
		case "oif":
			r.OIf = next()
		case "fwmark":
			m, k, found := strings.Cut(next(), "/")
			if r.Mark, err = parseNum(m); err == nil {
				r.Mask = 0xffffffff
				if found {
					r.Mask, err = parseNum(k)
				}
			}
		case "tos":
			v, err = parseNum(next())
			r.TOS = uint8(v)
		case "ipproto":
			r.IPProto, err = parseProto(next())
		case "sport":
			r.Sport, err = parsePorts(next())
		case "dport":
			r.Dport, err = parsePorts(next())
		case "pref", "priority":
			r.Priority, err = parseNum(next())
		case "lookup", "table":
			if r.Action == 0 {
				r.Action = unix.FR_ACT_TO_TBL
			}
			if s := next(); s == "main" {
				r.Table = unix.RT_TABLE_MAIN
			} else {
				r.Table, err = parseNum(s)
			}
		case "goto":
			r.Action = unix.FR_ACT_GOTO
			r.Goto, err = parseNum(next())
		case "nop":
			r.Action = unix.FR_ACT_NOP
		case "unreachable":
			r.Action = unix.FR_ACT_UNREACHABLE
		case "prohibit":
			r.Action = unix.FR_ACT_PROHIBIT
		case "blackhole":
			r.Action = unix.FR_ACT_BLACKHOLE
		case "suppress_prefixlength":
			v, err = parseNum(next())
			r.SuppressPrefixLen = int(v)
		default:
			return r, fmt.Errorf("unsupported rule option %q", a[i])
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		s += "/32"
	}
	return netip.ParsePrefix(s)
}

// ipErrText is what iproute2 prints for an error: the extended ACK
// message when there is one, else the errno's text.
func ipErrText(err error) string {
	var ext *netdev.ExtError
	if errors.As(err, &ext) && ext.Msg != "" {
		return "Error: " + ext.Msg + "."
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return "RTNETLINK answers: " + errno.Error()
	}
	return err.Error()
}
