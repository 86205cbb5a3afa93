package iproute

import (
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `ip link ... type ipvlan` (iproute2's ip/iplink_ipvlan.c).
func init() {
	registerKind("ipvlan", &kindOps{parse: parseIPVlan, print: printIPVlan})
}

const ipvlanUsage = `Usage: ... ipvlan [ mode MODE ] [ FLAGS ]
MODE: l2 | l3 | l3s
FLAGS: bridge | private | vepa
(first values are the defaults if nothing is specified).`

func parseIPVlan(_ *session, args []string) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	var flags uint16
	flagGiven := false
	for len(args) > 0 {
		a := args[0]
		switch {
		case matches(a, "mode"):
			if len(args) < 2 {
				return nil, incomplete()
			}
			args = args[1:]
			m, ok := map[string]uint16{"l2": 0, "l3": 1, "l3s": 2}[args[0]]
			if !ok {
				return nil, fail(exitFail, "Error: argument of \"mode\" must be either \"l2\", \"l3\" or \"l3s\"")
			}
			e.Uint16(unix.IFLA_IPVLAN_MODE, m)
		case matches(a, "private") && !flagGiven:
			flags, flagGiven = 0x01, true
		case matches(a, "vepa") && !flagGiven:
			flags, flagGiven = 0x02, true
		case matches(a, "bridge") && !flagGiven:
			flagGiven = true
		case matches(a, "help"):
			return nil, fail(exitFail, "%s", ipvlanUsage)
		default:
			return nil, fail(exitFail, "ipvlan: unknown option \"%s\"?\n%s", a, ipvlanUsage)
		}
		args = args[1:]
	}
	e.Uint16(unix.IFLA_IPVLAN_FLAGS, flags)
	return e.Bytes(), e.Err()
}

// printIPVlan is ipvlan_print_opt.
func printIPVlan(p *printer, data []byte) {
	v, err := rtmsg.DecodeIPVlan(data)
	if err != nil {
		return
	}
	if v.HasMode {
		name := map[uint16]string{0: "l2", 1: "l3", 2: "l3s"}[v.Mode]
		if name == "" {
			name = "unknown"
		}
		p.str(anyOut, "mode", " mode %s ", name)
	}
	if v.HasFlags {
		switch {
		case v.Flags&0x01 != 0:
			p.flag(anyOut, "private", "private ")
		case v.Flags&0x02 != 0:
			p.flag(anyOut, "vepa", "vepa ")
		default:
			p.flag(anyOut, "bridge", "bridge ")
		}
	}
}
