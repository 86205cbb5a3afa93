package iproute

import (
	"fmt"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `ip link ... type macvlan` (iproute2's ip/iplink_macvlan.c).
func init() {
	registerKind("macvlan", &kindOps{parse: parseMacvlan, print: printMacvlan})
	registerKind("macvtap", &kindOps{parse: parseMacvlan, print: printMacvlan})
}

const macvlanUsage = `Usage: ... macvlan mode MODE [flag MODE_FLAG] MODE_OPTS [bcqueuelen BC_QUEUE_LEN]

MODE: private | vepa | bridge | passthru | source
MODE_FLAG: null | nopromisc | nodst
MODE_OPTS: for mode "source":
	macaddr { { add | del } <macaddr> | set [ <macaddr> [ <macaddr>  ... ] ] | flush }
BC_QUEUE_LEN: Length of the rx queue for broadcast/multicast: [0-4294967295]`

var macvlanModes = map[string]uint32{"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}

func macvlanModeName(m uint32) string {
	for k, v := range macvlanModes {
		if v == m {
			return k
		}
	}
	return "unknown"
}

func parseMacvlan(_ *session, args []string) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	var mode uint32
	var flags uint16
	hasFlags := false
	next := func() (string, error) {
		if len(args) < 2 {
			return "", incomplete()
		}
		args = args[1:]
		return args[0], nil
	}
	for len(args) > 0 {
		a := args[0]
		switch {
		case matches(a, "mode"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			m, ok := macvlanModes[v]
			if !ok {
				return nil, fail(exitFail, "Error: argument of \"mode\" must be \"private\", \"vepa\", \"bridge\", \"passthru\" or \"source\", not \"%s\"", v)
			}
			mode = m
		case matches(a, "flag"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			switch v {
			case "nopromisc":
				flags |= 1
			case "nodst":
				flags |= 2
			case "null":
			default:
				return nil, fail(exitFail, "Error: argument of \"flag\" must be \"nopromisc\", \"nodst\" or \"null\", not \"%s\"", v)
			}
			hasFlags = true
		case matches(a, "macaddr"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			op, ok := map[string]uint32{"add": 0, "del": 1, "flush": 2, "set": 3}[v]
			if !ok {
				return nil, fail(exitFail, "%s", macvlanUsage)
			}
			e.Uint32(unix.IFLA_MACVLAN_MACADDR_MODE, op)
			switch op {
			case 0, 1:
				v, err := next()
				if err != nil {
					return nil, err
				}
				mac, ok := parseMAC(v)
				if !ok || len(mac) != 6 {
					return nil, fail(exitUsage, "\"%s\" is invalid lladdr.", v)
				}
				e.PutBytes(unix.IFLA_MACVLAN_MACADDR, mac)
			case 3:
				n := e.BeginNest(unix.IFLA_MACVLAN_MACADDR_DATA)
				for len(args) > 1 {
					mac, ok := parseMAC(args[1])
					if !ok || len(mac) != 6 {
						break
					}
					e.PutBytes(unix.IFLA_MACVLAN_MACADDR, mac)
					args = args[1:]
				}
				e.EndNest(n)
			}
		case matches(a, "nopromisc"):
			flags |= 1
			hasFlags = true
		case matches(a, "bcqueuelen"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			n, ok := parseU(v, 32)
			if !ok {
				return nil, fail(exitFail, "Error: argument of \"bcqueuelen\" must be a positive integer [0-4294967295], not \"%s\"", v)
			}
			e.Uint32(unix.IFLA_MACVLAN_BC_QUEUE_LEN, uint32(n))
		case matches(a, "help"):
			return nil, fail(exitFail, "%s", macvlanUsage)
		default:
			return nil, fail(exitFail, "macvlan: unknown option \"%s\"?\n%s", a, macvlanUsage)
		}
		args = args[1:]
	}
	if mode != 0 {
		e.Uint32(unix.IFLA_MACVLAN_MODE, mode)
	}
	if hasFlags {
		if flags&1 != 0 && mode != 8 {
			return nil, fail(exitFail, "macvlan: nopromisc flag only valid in passthru mode\n%s", macvlanUsage)
		}
		e.Uint16(unix.IFLA_MACVLAN_FLAGS, flags)
	}
	return e.Bytes(), e.Err()
}

// printMacvlan is macvlan_print_opt.
func printMacvlan(p *printer, data []byte) {
	m, err := rtmsg.DecodeMacvlan(data)
	if err != nil || !m.HasMode {
		return
	}
	p.str(anyOut, "mode", "mode %s ", macvlanModeName(m.Mode))
	if m.Flags&1 != 0 {
		p.flag(anyOut, "nopromisc", "nopromisc ")
	}
	if m.Flags&2 != 0 {
		p.flag(anyOut, "nodst", "nodst ")
	}
	if m.HasBCQueueLen {
		p.uint(anyOut, "bcqueuelen", "bcqueuelen %d ", uint64(m.BCQueueLen))
	}
	if m.HasBCQueueUsed {
		p.uint(anyOut, "usedbcqueuelen", "usedbcqueuelen %d ", uint64(m.BCQueueUsed))
	}
	if m.Mode != 16 || !m.HasCount {
		return
	}
	p.int(anyOut, "macaddr_count", "remotes (%d) ", int64(m.Count))
	if !m.HasMACAddrs {
		return
	}
	p.openArray("macaddr_data")
	for _, a := range m.MACAddrs {
		s := fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5])
		p.str(jsonOnly, "", "", s)
		p.text("%s ", s)
	}
	p.closeArray()
}
