package fibcompat

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/fib"
)

// fields is a normalised lookup answer: the keys `ip -j route get`
// prints that the comparison covers, as strings.
type fields map[string]string

func (f fields) String() string {
	var ks []string
	for k, v := range f {
		ks = append(ks, k+"="+v)
	}
	slices.Sort(ks)
	return strings.Join(ks, " ")
}

// parseQuery turns `ip route get` arguments into a Query.
func (w *world) parseQuery(a []string) (fib.Query, error) {
	var q fib.Query
	var err error
	if q.Dst, err = netip.ParseAddr(a[0]); err != nil {
		return q, err
	}
	for i := 1; i < len(a); i++ {
		var v uint32
		next := func() string { i++; return a[i] }
		switch a[i] {
		case "from":
			q.Src, err = netip.ParseAddr(next())
		case "iif":
			q.Iif, err = w.ifindex(next())
		case "oif":
			q.Oif, err = w.ifindex(next())
		case "mark":
			q.Mark, err = parseNum(next())
		case "tos":
			v, err = parseNum(next())
			q.TOS = uint8(v)
		case "ipproto":
			q.IPProto, err = parseProto(next())
		case "sport":
			v, err = parseNum(next())
			q.Sport = uint16(v)
		case "dport":
			v, err = parseNum(next())
			q.Dport = uint16(v)
		case "fibmatch":
			q.FibMatch = true
		default:
			return q, fmt.Errorf("unsupported route get option %q", a[i])
		}
		if err != nil {
			return q, err
		}
	}
	return q, nil
}

// kernelFields normalises the kernel's answer.
func kernelFields(st step) (fields, error) {
	f := fields{}
	if st.exit != 0 {
		f["error"] = strings.ToLower(strings.TrimPrefix(strings.Join(st.err, " "), "RTNETLINK answers: "))
		return f, nil
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(strings.Join(st.out, "\n")), &out); err != nil || len(out) != 1 {
		return nil, fmt.Errorf("kernel output %q: %v", st.out, err)
	}
	m := out[0]
	f["type"], f["table"], f["flags"] = "unicast", "main", ""
	for _, k := range []string{"type", "dst", "tos", "gateway", "dev", "table", "prefsrc", "metric", "protocol", "scope"} {
		if v, ok := m[k]; ok {
			f[k] = fmt.Sprint(v)
		}
	}
	f["flags"] = strList(m["flags"])
	if c, ok := m["cache"]; ok {
		f["cache"] = strList(c)
	}
	if ms, ok := m["metrics"].([]any); ok {
		for _, x := range ms {
			for k, v := range x.(map[string]any) {
				f["metrics."+k] = fmt.Sprint(v)
			}
		}
	}
	if nhs, ok := m["nexthops"].([]any); ok {
		for i, x := range nhs {
			nh := x.(map[string]any)
			f["nh"+strconv.Itoa(i)] = fmt.Sprintf("%v/%v/%v/%s", nh["gateway"], nh["dev"], nh["weight"], strList(nh["flags"]))
		}
	}
	return f, nil
}

func strList(v any) string {
	l, _ := v.([]any)
	var s []string
	for _, x := range l {
		s = append(s, fmt.Sprint(x))
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

func tableName(id uint32) string {
	switch id {
	case unix.RT_TABLE_MAIN:
		return "main"
	case unix.RT_TABLE_LOCAL:
		return "local"
	case unix.RT_TABLE_DEFAULT:
		return "default"
	}
	return strconv.Itoa(int(id))
}

var protoNames = map[uint8]string{unix.RTPROT_KERNEL: "kernel", unix.RTPROT_STATIC: "static", unix.RTPROT_REDIRECT: "redirect"}

var scopeNames = map[uint8]string{unix.RT_SCOPE_LINK: "link", unix.RT_SCOPE_HOST: "host", unix.RT_SCOPE_SITE: "site", unix.RT_SCOPE_NOWHERE: "nowhere"}

func nhFlags(fl uint32) string {
	var s []string
	for _, x := range []struct {
		bit  uint32
		name string
	}{{unix.RTNH_F_DEAD, "dead"}, {unix.RTNH_F_ONLINK, "onlink"}, {unix.RTNH_F_LINKDOWN, "linkdown"}} {
		if fl&x.bit != 0 {
			s = append(s, x.name)
		}
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

// usnetFields normalises usnet's answer the way iproute2 would print it.
func (w *world) usnetFields(q fib.Query, res fib.Result, err error) fields {
	f := fields{}
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			err = errno
		}
		f["error"] = strings.ToLower(err.Error())
		return f
	}
	devName := func(i int) string {
		if d := w.ns.Dev.ByIndex(i); d != nil {
			return d.Name()
		}
		return "?"
	}
	// With local and main still merged (no custom rules), the kernel
	// reports local routes as main's.
	table := res.Table
	if table == unix.RT_TABLE_LOCAL && !w.ns.FIB.CustomRules() {
		table = unix.RT_TABLE_MAIN
	}
	f["table"] = tableName(table)
	metrics := func(m fib.Metrics) {
		if m.MTU != 0 {
			f["metrics.mtu"] = strconv.Itoa(int(m.MTU))
		}
		if m.AdvMSS != 0 {
			f["metrics.advmss"] = strconv.Itoa(int(m.AdvMSS))
		}
	}
	if q.FibMatch {
		r := res.Route
		f["type"] = typeName(r.Type)
		f["dst"] = r.Dst.String()
		switch {
		case r.Dst.Bits() == 0:
			f["dst"] = "default"
		case r.Dst.Bits() == 32:
			f["dst"] = r.Dst.Addr().String()
		}
		if r.TOS != 0 {
			f["tos"] = fmt.Sprintf("0x%x", r.TOS)
		}
		if r.Priority != 0 {
			f["metric"] = strconv.Itoa(int(r.Priority))
		}
		if r.Protocol != unix.RTPROT_BOOT {
			f["protocol"] = protoNames[r.Protocol]
		}
		if r.Scope != unix.RT_SCOPE_UNIVERSE {
			f["scope"] = scopeNames[r.Scope]
		}
		if r.Prefsrc.IsValid() {
			f["prefsrc"] = r.Prefsrc.String()
		}
		metrics(r.Metrics)
		f["flags"] = nhFlags(r.Flags)
		if len(r.Nexthops) == 1 {
			nh := r.Nexthops[0]
			if nh.Gateway.IsValid() {
				f["gateway"] = nh.Gateway.String()
			}
			if nh.Ifindex != 0 {
				f["dev"] = devName(nh.Ifindex)
			}
			f["flags"] = nhFlags(r.Flags | nh.Flags)
			return f
		}
		for i, nh := range r.Nexthops {
			f["nh"+strconv.Itoa(i)] = fmt.Sprintf("%v/%s/%d/%s", nh.Gateway, devName(nh.Ifindex), max(nh.Weight, 1), nhFlags(nh.Flags))
		}
		return f
	}
	f["type"] = typeName(res.Type)
	f["dst"] = q.Dst.String()
	f["flags"] = ""
	var cache []string
	if res.Flags&0x80000000 != 0 {
		cache = append(cache, "local")
	}
	if res.Flags&0x10000000 != 0 {
		cache = append(cache, "brd")
	}
	if res.Flags&0x20000000 != 0 {
		cache = append(cache, "mc")
	}
	if res.Flags&0x01000000 != 0 {
		cache = append(cache, "redirect")
	}
	slices.Sort(cache)
	f["cache"] = strings.Join(cache, ",")
	if res.Gateway.IsValid() {
		f["gateway"] = res.Gateway.String()
	}
	if res.Dev != 0 {
		f["dev"] = devName(res.Dev)
	}
	if !q.Src.IsValid() && q.Iif == 0 && res.Prefsrc.IsValid() {
		f["prefsrc"] = res.Prefsrc.String()
	}
	if res.Route != nil && res.Route.TOS != 0 {
		f["tos"] = fmt.Sprintf("0x%x", res.Route.TOS)
	}
	metrics(res.Metrics)
	return f
}

// compareGet runs one lookup on usnet and returns how it differs from
// the kernel's ("" when it does not). For a multipath route, the chosen
// path is not compared (the kernel's hash seed is random and its hash
// function is not reproduced): both answers must name one of the
// route's nexthops.
func (w *world) compareGet(st step) string {
	want, err := kernelFields(st)
	if err != nil {
		return err.Error()
	}
	q, err := w.parseQuery(st.args[1:])
	if err != nil {
		return err.Error()
	}
	res, gerr := w.ns.FIB.Get(q)
	got := w.usnetFields(q, res, gerr)
	if !q.FibMatch && gerr == nil && res.Route != nil && len(res.Route.Nexthops) > 1 {
		var gws []string
		for _, nh := range res.Route.Nexthops {
			gws = append(gws, nh.Gateway.String())
		}
		if !slices.Contains(gws, want["gateway"]) || !slices.Contains(gws, got["gateway"]) {
			return fmt.Sprintf("multipath: kernel chose %s, usnet %s, route has %v", want["gateway"], got["gateway"], gws)
		}
		for _, k := range []string{"gateway", "dev", "prefsrc"} {
			delete(want, k)
			delete(got, k)
		}
	}
	if want.String() != got.String() {
		return fmt.Sprintf("  kernel: %s\n  usnet:  %s", want, got)
	}
	if os.Getenv("FIBCOMPAT_VERBOSE") != "" {
		fmt.Printf("%s\n  = %s\n", strings.Join(st.args, " "), got)
	}
	return ""
}

var gwRE = regexp.MustCompile(`"gateway":"([^"]*)"`)

// compareSpread checks that flows differing in source port spread over
// the same set of paths as on the kernel.
func (w *world) compareSpread(st step) string {
	n, err := strconv.Atoi(st.args[1])
	if err != nil {
		return err.Error()
	}
	var want []string
	for _, m := range gwRE.FindAllStringSubmatch(strings.Join(st.out, " "), -1) {
		want = append(want, m[1])
	}
	slices.Sort(want)
	var got []string
	for i := 0; i < n; i++ {
		q, err := w.parseQuery(append(slices.Clone(st.args[2:]), "sport", strconv.Itoa(1000+i)))
		if err != nil {
			return err.Error()
		}
		res, err := w.ns.FIB.Get(q)
		if err != nil {
			return err.Error()
		}
		if g := res.Gateway.String(); !slices.Contains(got, g) {
			got = append(got, g)
		}
	}
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return fmt.Sprintf("paths used by %d flows: kernel %v, usnet %v", n, want, got)
	}
	return ""
}
