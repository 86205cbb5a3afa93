package iproute

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Attributes of links that rtmsg keeps in Unknown.
const (
	iflaParentDevName    = 56
	iflaParentDevBusName = 57
	iflaTSOMaxSize       = unix.IFLA_TSO_MAX_SIZE
	iflaTSOMaxSegs       = unix.IFLA_TSO_MAX_SEGS
)

func nativeU32(b []byte) uint32 { return binary.NativeEndian.Uint32(b) }

func (s *session) cmdLink(args []string) error {
	if len(args) == 0 {
		return s.linkShow(nil)
	}
	cmd, rest := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return s.linkModify(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, rest, true)
	case matches(cmd, "set") || matches(cmd, "change"):
		return s.linkModify(unix.RTM_NEWLINK, 0, rest, false)
	case matches(cmd, "replace"):
		return s.linkModify(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, rest, true)
	case matches(cmd, "delete"):
		return s.linkModify(unix.RTM_DELLINK, 0, rest, false)
	case matches(cmd, "show") || matches(cmd, "lst") || matches(cmd, "list"):
		return s.linkShow(rest)
	case matches(cmd, "help"):
		return fail(exitUsage, "Usage: ip link add [link DEV] [ name ] NAME ... type TYPE [ ARGS ]")
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"ip link help\".", cmd)
}

// linkReq is a parsed `ip link add/set/del` request.
type linkReq struct {
	link    rtmsg.Link
	dev     string // device to act on (set/del)
	kind    string
	peer    *rtmsg.Link
	netnsFD *os.File
}

// parseLinkArgs parses the options common to `link add`, `set` and the
// veth peer into l; it stops at "type" and returns the rest.
func (s *session) parseLinkArgs(args []string, l *rtmsg.Link, dev *string, create bool) ([]string, *os.File, error) {
	var nsf *os.File
	for len(args) > 0 {
		a := args[0]
		next := func() (string, error) {
			if len(args) < 2 {
				return "", incomplete()
			}
			args = args[1:]
			return args[0], nil
		}
		switch {
		case a == "up":
			l.Change |= unix.IFF_UP
			l.Flags |= unix.IFF_UP
		case a == "down":
			l.Change |= unix.IFF_UP
			l.Flags &^= unix.IFF_UP
		case a == "name":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			if len(v) >= unix.IFNAMSIZ || v == "" {
				return nil, nil, invarg("\"name\" not a valid ifname", v)
			}
			l.Name = v
		case matches(a, "mtu"):
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			n, ok := parseU(v, 32)
			if !ok {
				return nil, nil, invarg("Invalid \"mtu\" value\n", v)
			}
			l.MTU = uint32(n)
			l.Attrs.Set(unix.IFLA_MTU)
		case a == "address":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			mac, ok := parseMAC(v)
			if !ok {
				return nil, nil, fail(exitFail, "\"%s\" is invalid lladdr.", v)
			}
			l.Address = mac
		case matches(a, "txqueuelen") || a == "qlen" || matches(a, "txqlen"):
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			n, ok := parseU(v, 32)
			if !ok {
				return nil, nil, invarg("Invalid \"txqueuelen\" value\n", v)
			}
			l.TxQLen = uint32(n)
			l.Attrs.Set(unix.IFLA_TXQLEN)
		case a == "mode":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			switch strings.ToLower(v) {
			case "default":
				l.LinkMode = 0
			case "dormant":
				l.LinkMode = 1
			default:
				return nil, nil, invarg("Invalid link mode\n", v)
			}
			l.Attrs.Set(unix.IFLA_LINKMODE)
		case a == "state":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			st := -1
			for i, n := range operStates {
				if strings.EqualFold(v, n) {
					st = i
				}
			}
			if st < 0 {
				return nil, nil, invarg("Invalid operstate\n", v)
			}
			l.OperState = uint8(st)
			l.Attrs.Set(unix.IFLA_OPERSTATE)
		case a == "numtxqueues" || a == "numrxqueues":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			n, ok := parseU(v, 32)
			if !ok {
				return nil, nil, invarg(fmt.Sprintf("Invalid \"%s\" value\n", a), v)
			}
			if a == "numtxqueues" {
				l.NumTxQueues = uint32(n)
				l.Attrs.Set(unix.IFLA_NUM_TX_QUEUES)
			} else {
				l.NumRxQueues = uint32(n)
				l.Attrs.Set(unix.IFLA_NUM_RX_QUEUES)
			}
		case matches(a, "addrgenmode"):
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			m, ok := map[string]uint8{"eui64": 0, "none": 1, "stable_secret": 2, "random": 3}[v]
			if !ok {
				return nil, nil, invarg("Invalid address generation mode\n", v)
			}
			// IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE } }.
			ae := netlink.NewAttributeEncoder(nil)
			n6 := ae.BeginNest(unix.AF_INET6)
			ae.Uint8(unix.IFLA_INET6_ADDR_GEN_MODE, m)
			ae.EndNest(n6)
			l.AFSpec = ae.Bytes()
		case a == "alias":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			l.Alias = v
			l.Attrs.Set(unix.IFLA_IFALIAS)
		case a == "netns":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			if pid, err := strconv.ParseUint(v, 10, 32); err == nil {
				l.NetNSPid = uint32(pid)
				l.Attrs.Set(unix.IFLA_NET_NS_PID)
				break
			}
			if r, ok := s.transport().(NetnsResolver); ok {
				t, val, err := r.ResolveNetns(v)
				if err != nil {
					return nil, nil, invarg("Invalid \"netns\" value\n", v)
				}
				l.Unknown = append(l.Unknown, rtmsg.RawAttr{Type: t, Data: binary.NativeEndian.AppendUint32(nil, val)})
				break
			}
			f, err := os.Open(filepath.Join(NetnsDir, v))
			if err != nil {
				return nil, nil, invarg("Invalid \"netns\" value\n", v)
			}
			nsf = f
			l.NetNSFD = uint32(f.Fd())
			l.Attrs.Set(unix.IFLA_NET_NS_FD)
		case a == "master":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			i, err := s.ifindex(v)
			if err != nil {
				return nil, nil, err
			}
			if i == 0 {
				return nil, nil, invarg("Device does not exist\n", v)
			}
			l.Master = uint32(i)
		case a == "link" && create:
			// The lower device of a vlan, macvlan, ipvlan … (IFLA_LINK).
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			i, err := s.ifindex(v)
			if err != nil {
				return nil, nil, err
			}
			if i == 0 {
				return nil, nil, nodev(v)
			}
			l.Link = uint32(i)
			l.Attrs.Set(unix.IFLA_LINK)
		case a == "nomaster":
			l.Master = 0
			l.Attrs.Set(unix.IFLA_MASTER)
		case a == "group":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			g, ok := parseU(v, 32)
			if v == "default" {
				g, ok = 0, true
			}
			if !ok {
				return nil, nil, invarg("Invalid \"group\" value\n", v)
			}
			l.Group = uint32(g)
			l.Attrs.Set(unix.IFLA_GROUP)
		case a == "type":
			return args, nsf, nil
		case a == "dev":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			*dev = v
		default:
			if matches(a, "help") {
				return nil, nil, fail(exitUsage, "Usage: ip link set DEVICE ...")
			}
			if *dev != "" {
				if create {
					return nil, nil, fail(exitUsage, "Error: either \"dev\" is duplicate, or \"%s\" is a garbage.", a)
				}
				return nil, nil, fail(exitUsage, "Error: either \"dev\" is duplicate, or \"%s\" is a garbage.", a)
			}
			*dev = a
		}
		args = args[1:]
	}
	return nil, nsf, nil
}

func (s *session) linkModify(typ uint16, flags uint16, args []string, create bool) error {
	var r linkReq
	r.link.Family = unix.AF_UNSPEC
	rest, nsf, err := s.parseLinkArgs(args, &r.link, &r.dev, create)
	if nsf != nil {
		defer nsf.Close()
	}
	if err != nil {
		return err
	}
	if len(rest) > 0 { // "type KIND ..."
		if len(rest) < 2 {
			return incomplete()
		}
		r.kind = rest[1]
		s.linkCreate = typ == unix.RTM_NEWLINK && flags&unix.NLM_F_CREATE != 0
		r.link.Info = &rtmsg.LinkInfo{Kind: r.kind}
		data := rest[2:]
		switch r.kind {
		case "veth":
			if len(data) > 0 {
				if data[0] != "peer" {
					return fail(exitUsage, "Error: either \"peer\" is duplicate, or \"%s\" is a garbage.", data[0])
				}
				peer := &rtmsg.Link{}
				var pdev string
				prest, pf, err := s.parseLinkArgs(data[1:], peer, &pdev, true)
				if pf != nil {
					defer pf.Close()
				}
				if err != nil {
					return err
				}
				if len(prest) > 0 {
					return garbage("type", prest[0])
				}
				if pdev != "" && peer.Name == "" {
					peer.Name = pdev
				}
				b, err := rtmsg.EncodeVethPeer(peer)
				if err != nil {
					return err
				}
				r.link.Info.Data = b
			}
		case "tap", "afpacket":
			// usnet's host backends: `type tap [hostname H] [hostnetns NS]`,
			// `type afpacket dev HOSTIF [mode exclusive|shared] [hostnetns NS]`.
			var h rtmsg.HostLink
			h.Exclusive = r.kind == "afpacket"
			for i := 0; i < len(data); i += 2 {
				if i+1 >= len(data) {
					return incomplete()
				}
				switch data[i] {
				case "hostname", "dev":
					h.Ifname = data[i+1]
				case "hostnetns":
					h.Netns = "/run/netns/" + data[i+1]
				case "mode":
					switch data[i+1] {
					case "exclusive":
						h.Exclusive = true
					case "shared":
						h.Exclusive = false
					default:
						return garbage("mode", data[i+1])
					}
				default:
					return garbage("type", data[i])
				}
			}
			r.link.Info.Data = rtmsg.EncodeHostLink(h)
		default:
			slave, isSlave := strings.CutSuffix(r.kind, "_slave")
			ops := lookupKind(r.kind)
			switch {
			case ops != nil && ops.parse != nil:
				b, err := ops.parse(s, data)
				if err != nil {
					return err
				}
				if isSlave {
					r.link.Info = &rtmsg.LinkInfo{SlaveKind: slave, SlaveData: b}
				} else {
					r.link.Info.Data = b
				}
			case len(data) > 0:
				return garbage("type", data[0])
			case isSlave:
				r.link.Info = &rtmsg.LinkInfo{SlaveKind: slave}
			}
		}
	}
	if create {
		// In `ip link add NAME`, the bare word is the new name.
		if r.link.Name == "" {
			r.link.Name = r.dev
		}
		if r.link.Name == "" {
			return fail(exitUsage, "Not enough information: \"dev\" argument is required.")
		}
		if r.kind == "" && typ == unix.RTM_NEWLINK && flags&unix.NLM_F_EXCL != 0 {
			return fail(exitFail, "Not enough information: \"type\" argument is required")
		}
	} else {
		if r.dev == "" {
			return fail(exitUsage, "Not enough information: \"dev\" argument is required.")
		}
		idx, err := s.mustIndex(r.dev)
		if err != nil {
			return err
		}
		r.link.Index = idx
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	b, err := r.link.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.Do(typ, flags, b)
	return err
}

func (s *session) linkShow(args []string) error {
	var dev, kind string
	var master int32
	up := false
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "dev":
			if i+1 >= len(args) {
				return incomplete()
			}
			i++
			dev = args[i]
		case a == "up":
			up = true
		case a == "master" || a == "type":
			if i+1 >= len(args) {
				return incomplete()
			}
			i++
			if a == "type" {
				kind = args[i]
				break
			}
			idx, err := s.ifindex(args[i])
			if err != nil {
				return err
			}
			if idx == 0 {
				return invarg("Device does not exist\n", args[i])
			}
			master = idx
		default:
			if dev != "" {
				return fail(exitUsage, "Error: either \"dev\" is duplicate, or \"%s\" is a garbage.", a)
			}
			dev = a
		}
	}
	if err := s.loadLinks(); err != nil {
		return err
	}
	if dev != "" {
		if i, _ := s.ifindex(dev); i == 0 {
			return fail(exitFail, "Device \"%s\" does not exist.", dev)
		}
	}
	p := s.out
	p.openArray("")
	for _, i := range s.order {
		l := s.links[i]
		if dev != "" && l.Name != dev || master != 0 && int32(l.Master) != master ||
			kind != "" && (l.Info == nil || l.Info.Kind != kind) {
			continue
		}
		p.openObject("")
		// iproute2 opens the object before testing "up" and so prints
		// an empty one in JSON for every link that is down.
		if !up || l.Flags&unix.IFF_UP != 0 {
			s.printLink(l, true, true)
		}
		p.closeObject()
	}
	p.closeArray()
	if p.json {
		p.b.WriteByte('\n')
	}
	return nil
}
