package iproute

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `ip netns` (iproute2's ipnetns.c). Names are the files under /run/netns
// on the kernel, the daemon's namespaces over the daemon (a transport
// that is a NetnsResolver and NetnsLister); ids are the nsids the
// session's namespace gives them (RTM_GETNSID / RTM_NEWNSID with the
// namespace's reference: a file descriptor, or what the daemon resolves
// the name to).

// NetnsLister is implemented by transports whose peer names namespaces
// itself (the usnet daemon): the names `ip netns` and "link-netns NAME"
// look up instead of the files under /run/netns.
type NetnsLister interface {
	NetnsNames() ([]string, error)
}

// netnsNames lists the namespace names in the order iproute2 walks them.
func (s *session) netnsNames() []string {
	if l, ok := s.transport().(NetnsLister); ok {
		names, _ := l.NetnsNames()
		return names
	}
	ents, err := os.ReadDir(NetnsDir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// netnsRef names namespace name in an RTM_*NSID request: NETNSA_FD of
// its /run/netns file, or the reference the transport resolves it to.
// done releases the file.
func (s *session) netnsRef(name string) (attr uint16, val uint32, done func(), err error) {
	if r, ok := s.transport().(NetnsResolver); ok {
		t, v, err := r.ResolveNetns(name)
		if err != nil {
			return 0, 0, nil, err
		}
		attr := uint16(unix.NETNSA_PID)
		if t == unix.IFLA_NET_NS_FD {
			attr = unix.NETNSA_FD
		}
		return attr, v, func() {}, nil
	}
	f, err := os.Open(filepath.Join(NetnsDir, name))
	if err != nil {
		return 0, 0, nil, unwrapPathErr(err)
	}
	return unix.NETNSA_FD, uint32(f.Fd()), func() { f.Close() }, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// nsidOf asks the session's namespace which nsid it gives namespace name
// (get_netnsid_from_name); false when none or on any failure.
func (s *session) nsidOf(name string) (int32, bool) {
	c, err := s.rtnl()
	if err != nil {
		return 0, false
	}
	return s.nsidOn(c, name)
}

// nsidOn is nsidOf over connection c.
func (s *session) nsidOn(c *Conn, name string) (int32, bool) {
	attr, val, done, err := s.netnsRef(name)
	if err != nil {
		return 0, false
	}
	defer done()
	req := rtmsg.Nsid{Family: unix.AF_UNSPEC}
	if attr == unix.NETNSA_PID {
		req.PID = val
	} else {
		req.FD = val
	}
	req.Attrs.Set(attr)
	b, _ := req.MarshalBinary()
	msgs, err := c.Do(unix.RTM_GETNSID, 0, b)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		var n rtmsg.Nsid
		if m.Header.Type == unix.RTM_NEWNSID && n.UnmarshalBinary(m.Data) == nil && n.Attrs.Has(unix.NETNSA_NSID) && n.NSID >= 0 {
			return n.NSID, true
		}
	}
	return 0, false
}

// nsidMap returns nsid -> name for the session's namespace
// (netns_map_init: the first name of an id wins), built once.
func (s *session) nsidMap() map[int32]string {
	if s.nsids == nil {
		s.nsids = map[int32]string{}
		for _, name := range s.netnsNames() {
			if id, ok := s.nsidOf(name); ok {
				if _, dup := s.nsids[id]; !dup {
					s.nsids[id] = name
				}
			}
		}
	}
	return s.nsids
}

// netnsName maps an nsid of the session's namespace to a name, as
// iproute2 prints "link-netns NAME" (get_name_from_nsid).
func (s *session) netnsName(id int32) (string, bool) {
	t := s.transport()
	if t == nil {
		return "", false
	}
	if n, ok := t.(NetnsNamer); ok {
		return n.NetnsName(id)
	}
	name, ok := s.nsidMap()[id]
	return name, ok
}

// invalidNetnsName is iproute2's invalid_name.
func invalidNetnsName(name string) bool {
	return name == "" || len(name) > 255 || strings.Contains(name, "/") || name == "." || name == ".."
}

func (s *session) cmdNetns(args []string) error {
	ns := s.opt.Netns
	if ns == nil {
		ns = KernelNamespaces{}
	}
	if len(args) > 1 && invalidNetnsName(args[1]) {
		return fail(exitUsage, "Invalid netns name \"%s\"", args[1])
	}
	switch {
	case len(args) == 0 || matches(args[0], "list") || matches(args[0], "show") || matches(args[0], "lst"):
		return s.netnsList(ns)
	case matches(args[0], "list-id"):
		return s.netnsListID(args[1:])
	case matches(args[0], "add"):
		if len(args) < 2 {
			return fail(exitFail, "No netns name specified")
		}
		if err := ns.Add(args[1]); err != nil {
			return fail(exitFail, "%s", err.Error())
		}
		return nil
	case matches(args[0], "set"):
		return s.netnsSet(args[1:])
	case matches(args[0], "delete"):
		if len(args) < 2 {
			return fail(exitFail, "No netns name specified")
		}
		if err := ns.Delete(args[1]); err != nil {
			return fail(exitFail, "%s", err.Error())
		}
		return nil
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"ip netns help\".", args[0])
}

// netnsList is netns_list: every name, with " (id: N)" when the session's
// namespace has an id for it.
func (s *session) netnsList(ns Namespaces) error {
	list, err := ns.List()
	if err != nil {
		return fail(exitFail, "%s", err.Error())
	}
	p := s.out
	p.openArray("")
	for _, e := range list {
		id, ok := s.nsidOf(e.Name)
		if !ok && e.ID >= 0 {
			id, ok = e.ID, true
		}
		p.openObject("")
		p.str(anyOut, "name", "%s", e.Name)
		if ok {
			p.int(anyOut, "id", " (id: %d)", int64(id))
		}
		p.closeObject()
		p.text("\n")
	}
	p.closeArray()
	if p.json {
		p.b.WriteByte('\n')
	}
	return nil
}

// netnsSet is netns_set: `ip netns set NAME NSID|auto` (RTM_NEWNSID).
func (s *session) netnsSet(args []string) error {
	if len(args) < 1 {
		return fail(exitFail, "No netns name specified")
	}
	if len(args) < 2 {
		return fail(exitFail, "No nsid specified")
	}
	name := args[0]
	nsid := int64(-1)
	if args[1] != "auto" {
		v, err := strconv.ParseInt(args[1], 0, 32)
		if err != nil {
			return invarg("Invalid \"netnsid\" value", args[1])
		}
		if v < 0 {
			return invarg("\"netnsid\" value should be >= 0", args[1])
		}
		nsid = v
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	attr, val, done, err := s.netnsRef(name)
	if err != nil {
		return fail(exitFail, "Cannot open network namespace \"%s\": %s", name, strerror(err))
	}
	defer done()
	req := rtmsg.Nsid{Family: unix.AF_UNSPEC, NSID: int32(nsid)}
	if attr == unix.NETNSA_PID {
		req.PID = val
	} else {
		req.FD = val
	}
	req.Attrs.Set(attr)
	req.Attrs.Set(unix.NETNSA_NSID)
	b, _ := req.MarshalBinary()
	_, err = c.Do(unix.RTM_NEWNSID, 0, b)
	return err
}

// netnsListID is netns_list_id: the session namespace's table (or the one
// target-nsid names), or one entry with nsid.
func (s *session) netnsListID(args []string) error {
	target, nsid := int64(-1), int64(-1)
	for len(args) > 0 {
		switch args[0] {
		case "target-nsid", "nsid":
			key := args[0]
			dst := &target
			if key == "nsid" {
				dst = &nsid
			}
			if *dst >= 0 {
				return fail(exitUsage, "Error: duplicate \"%s\": \"%s\" is the second value.", key, key)
			}
			if len(args) < 2 {
				return incomplete()
			}
			v, err := strconv.ParseInt(args[1], 0, 32)
			if err != nil {
				return invarg("\""+key+"\" value is invalid", args[1])
			}
			if v < 0 {
				// iproute2 names the argument after the value here.
				next := "(null)"
				if len(args) > 2 {
					next = args[2]
				}
				return invarg("\""+key+"\" value should be >= 0", next)
			}
			*dst = v
			args = args[2:]
		default:
			return fail(exitUsage, "%s", netnsUsage)
		}
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	names := map[int32]string{}
	for id, n := range s.nsidMap() {
		names[id] = n
	}
	req := rtmsg.Nsid{Family: unix.AF_UNSPEC}
	if target >= 0 {
		req.TargetNSID = int32(target)
		req.Attrs.Set(unix.NETNSA_TARGET_NSID)
	}
	p := s.out
	if nsid >= 0 {
		// get_netnsid_from_netnsid: a refusal is reported as rtnl_talk
		// reports it, exit 2.
		req.NSID = int32(nsid)
		req.Attrs.Set(unix.NETNSA_NSID)
		b, _ := req.MarshalBinary()
		msgs, err := c.Do(unix.RTM_GETNSID, 0, b)
		if err != nil {
			return err
		}
		p.openArray("")
		for _, m := range msgs {
			s.printNsid(m.Header, m.Data, names)
		}
		p.closeArray()
		if p.json {
			p.b.WriteByte('\n')
		}
		return nil
	}
	b, _ := req.MarshalBinary()
	// iproute2 dumps on its strict socket (rtnl_set_strict_dump): only
	// then does the kernel read NETNSA_TARGET_NSID.
	if o, ok := c.t.(interface{ SetOption(int, bool) error }); ok && target >= 0 {
		o.SetOption(unix.NETLINK_GET_STRICT_CHK, true)
		defer o.SetOption(unix.NETLINK_GET_STRICT_CHK, false)
	}
	p.openArray("")
	err = c.Dump(unix.RTM_GETNSID, b, func(h netlink.Header, data []byte) error {
		s.printNsid(h, data, names)
		return nil
	})
	p.closeArray()
	if p.json {
		p.b.WriteByte('\n')
	}
	if err != nil {
		// rtnl_dump_filter reports the kernel's error, then netns_list_id
		// gives up.
		var ne *NetlinkError
		if errors.As(err, &ne) {
			return fail(exitFail, "%s\nDump terminated", ne.Error())
		}
		return fail(exitFail, "Dump terminated")
	}
	return nil
}

const netnsUsage = `Usage:	ip netns list
	ip netns add NAME
	ip netns attach NAME PID
	ip netns set NAME NETNSID
	ip [-all] netns delete [NAME]
	ip netns identify [PID]
	ip netns pids NAME
	ip [-all] netns exec [NAME] cmd ...
	ip netns monitor
	ip netns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]
NETNSID := auto | POSITIVE-INT`

// printNsid is print_nsid: "nsid N [current-nsid M ](iproute2 netns
// name: NAME)". names is the netns_map cache, from which a printed
// entry is removed as iproute2 removes it.
func (s *session) printNsid(h netlink.Header, data []byte, names map[int32]string) {
	if h.Type != unix.RTM_NEWNSID && h.Type != unix.RTM_DELNSID {
		return
	}
	var m rtmsg.Nsid
	if m.UnmarshalBinary(data) != nil || !m.Attrs.Has(unix.NETNSA_NSID) {
		return
	}
	p := s.out
	p.openObject("")
	if h.Type == unix.RTM_DELNSID {
		p.flag(anyOut, "deleted", "Deleted ")
	}
	if m.NSID < 0 {
		p.str(textOnly, "", "%s", "nsid unassigned ")
	} else {
		p.int(anyOut, "nsid", "nsid %d ", int64(m.NSID))
	}
	key := m.NSID
	if m.Attrs.Has(unix.NETNSA_CURRENT_NSID) {
		if m.CurrentNSID < 0 {
			p.str(textOnly, "", "%s", "current-nsid unassigned ")
		} else {
			p.int(anyOut, "current-nsid", "current-nsid %d ", int64(m.CurrentNSID))
		}
		key = m.CurrentNSID
	}
	name, ok := names[key]
	if ok && key >= 0 {
		p.str(anyOut, "name", "(iproute2 netns name: %s)", name)
		delete(names, key)
	} else if h.Type == unix.RTM_NEWNSID && m.NSID >= 0 {
		// Not in the cache: netns_get_name walks the names again, on a
		// second socket (the session's may be subscribed: `ip monitor`).
		if t, err := s.opt.Dial(s.ns); err == nil {
			c := NewConn(t)
			for _, n := range s.netnsNames() {
				if id, ok := s.nsidOn(c, n); ok && id == m.NSID {
					p.str(anyOut, "name", "(iproute2 netns name: %s)", n)
					names[m.NSID] = n
					break
				}
			}
			c.Close()
		}
	}
	p.text("\n")
	p.closeObject()
}
