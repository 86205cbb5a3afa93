package sysctl

import (
	"sort"
	"strings"
	"syscall"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/tcp"
)

// Net is the state of one namespace that its sysctls read and write.
type Net struct {
	IPv4  *ipv4.Layer
	TCP   *tcp.Table   // nil: no net.ipv4.tcp_* names
	Neigh *neigh.Table // ARP; nil: no net.ipv4.neigh.* names
}

// Entry is one setting: its name and value as /proc prints them.
type Entry struct {
	Name, Value string
}

// param is one namespace-wide name.
type param struct {
	name string
	tcp  bool // exists only with a TCP table
	get  func(n Net) string
	// set is nil for a read-only name.
	set func(n Net, v string) error
}

var byName = func() map[string]*param {
	m := map[string]*param{}
	for i := range params {
		m[params[i].name] = &params[i]
	}
	return m
}()

const confPrefix = "net.ipv4.conf."

// Get returns the value of a name ("net.ipv4.ip_forward"); ENOENT if the
// namespace has no such name. Executor only.
func Get(n Net, name string) (string, error) {
	if p := byName[name]; p != nil && (!p.tcp || n.TCP != nil) {
		return p.get(n), nil
	}
	if strings.HasPrefix(name, neighPrefix) {
		return getNeigh(n, name)
	}
	ifindex, f, err := confName(n, name)
	if err != nil {
		return "", err
	}
	c, err := n.IPv4.ConfOf(ifindex)
	if err != nil {
		return "", syscall.ENOENT
	}
	v, _ := c.Get(f)
	return itoa(int64(v)), nil
}

// Set writes a name: ENOENT for an unknown name, EACCES for a read-only
// one, EINVAL for a value the kernel refuses. Executor only.
func Set(n Net, name, value string) error {
	if p := byName[name]; p != nil && (!p.tcp || n.TCP != nil) {
		if p.set == nil {
			return syscall.EACCES
		}
		return p.set(n, value)
	}
	if strings.HasPrefix(name, neighPrefix) {
		return setNeigh(n, name, value)
	}
	ifindex, f, err := confName(n, name)
	if err != nil {
		return err
	}
	return setConf(n, ifindex, f, value)
}

// setConf writes a conf setting, an int (proc_dointvec).
func setConf(n Net, ifindex int, f ipv4.ConfField, value string) error {
	v := []int64{0}
	if err := parseVec(value, v); err != nil {
		return err
	}
	if err := inRange(v, -1<<31, 1<<31-1); err != nil {
		return err
	}
	if err := n.IPv4.SetConf(ifindex, f, int(v[0])); err != nil {
		return syscall.ENOENT // the device went away
	}
	return nil
}

// CheckWrite tells whether name exists and is writable, without writing:
// ENOENT, EACCES for a read-only name, else nil. Executor only.
func CheckWrite(n Net, name string) error {
	if p := byName[name]; p != nil && (!p.tcp || n.TCP != nil) {
		if p.set == nil {
			return syscall.EACCES
		}
		return nil
	}
	if strings.HasPrefix(name, neighPrefix) {
		_, _, err := neighName(n, name)
		return err
	}
	_, _, err := confName(n, name)
	return err
}

// All returns every name of the namespace with its value, sorted by name
// as `sysctl -a` lists them. Executor only.
func All(n Net) []Entry {
	var out []Entry
	for i := range params {
		p := &params[i]
		if p.tcp && n.TCP == nil {
			continue
		}
		out = append(out, Entry{p.name, p.get(n)})
	}
	sets := []string{"all", "default"}
	for _, d := range n.IPv4.Devices().Devices() {
		sets = append(sets, procDev(d.Name()))
		if n.Neigh == nil {
			continue
		}
		p := n.Neigh.Params(d.Ifindex())
		for _, k := range neighKeys {
			out = append(out, Entry{neighPrefix + procDev(d.Name()) + "." + k.name, itoa(k.get(&p))})
		}
	}
	for _, s := range sets {
		for _, k := range confKeys {
			name := confPrefix + s + "." + k.name
			v, err := Get(n, name)
			if err == nil {
				out = append(out, Entry{name, v})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// procDev is a device's name in a sysctl name: /proc/sys/net/ipv4/conf/
// has "eth0.100" as a directory, which a dotted name writes "eth0/100".
func procDev(name string) string { return strings.ReplaceAll(name, ".", "/") }

// confName resolves "net.ipv4.conf.SET.KEY".
func confName(n Net, name string) (int, ipv4.ConfField, error) {
	rest, ok := strings.CutPrefix(name, confPrefix)
	if !ok {
		return 0, 0, syscall.ENOENT
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return 0, 0, syscall.ENOENT
	}
	set, key := rest[:i], rest[i+1:]
	var f ipv4.ConfField
	for _, k := range confKeys {
		if k.name == key {
			f = k.f
		}
	}
	if f == 0 {
		return 0, 0, syscall.ENOENT
	}
	switch set {
	case "all":
		return ipv4.ConfAll, f, nil
	case "default":
		return ipv4.ConfDefault, f, nil
	}
	d := n.IPv4.Devices().ByName(strings.ReplaceAll(set, "/", "."))
	if d == nil {
		return 0, 0, syscall.ENOENT
	}
	return d.Ifindex(), f, nil
}

// confKeys are the net.ipv4.conf.*.* names usnet models.
var confKeys = []struct {
	name string
	f    ipv4.ConfField
}{
	{"accept_local", ipv4.ConfAcceptLocal},
	{"accept_redirects", ipv4.ConfAcceptRedirects},
	{"accept_source_route", ipv4.ConfAcceptSourceRoute},
	{"arp_accept", ipv4.ConfARPAccept},
	{"arp_announce", ipv4.ConfARPAnnounce},
	{"arp_filter", ipv4.ConfARPFilter},
	{"arp_ignore", ipv4.ConfARPIgnore},
	{"arp_notify", ipv4.ConfARPNotify},
	{"forwarding", ipv4.ConfForwarding},
	{"ignore_routes_with_linkdown", ipv4.ConfIgnoreRoutesWithLinkdown},
	{"log_martians", ipv4.ConfLogMartians},
	{"promote_secondaries", ipv4.ConfPromoteSecondaries},
	{"proxy_arp", ipv4.ConfProxyARP},
	{"rp_filter", ipv4.ConfRPFilter},
	{"send_redirects", ipv4.ConfSendRedirects},
}
