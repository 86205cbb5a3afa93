package iproute

import (
	"fmt"
	"os"
	"strings"
)

// RunBridge executes one `bridge` command line (iproute2's bridge tool,
// without the leading "bridge": fdb, vlan, link) and returns the exit
// status iproute2 would.
func RunBridge(args []string, opt Options) int {
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	if opt.Dial == nil {
		opt.Dial = DialKernel
	}
	s := &session{opt: opt}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		a := args[0]
		if strings.HasPrefix(a, "--") {
			a = a[1:]
		}
		switch {
		case a == "-n" || matches(a, "-netns") && len(a) > 2:
			if len(args) < 2 {
				return s.report(incomplete())
			}
			args = args[1:]
			s.ns = args[0]
		case a == "-j" || matches(a, "-json") && len(a) > 2:
			s.json = true
		case a == "-p" || matches(a, "-pretty") && len(a) > 2:
			s.pretty = true
		case a == "-d" || matches(a, "-details") && len(a) > 2:
			s.details = true
		case a == "-s" || matches(a, "-statistics"):
			s.stats++
		case a == "-V" || matches(a, "-Version"):
			fmt.Fprintln(opt.Stdout, "bridge utility, 6.1.0 (usnet)")
			return exitOK
		default:
			fmt.Fprintf(opt.Stderr, "Option \"%s\" is unknown, try \"bridge help\".\n", args[0])
			return exitUsage
		}
		args = args[1:]
	}
	if len(args) == 0 {
		bridgeUsage(opt.Stderr)
		return exitUsage
	}
	s.out = &printer{json: s.json, pretty: s.pretty && s.json, ifname: s.ifname}
	var err error
	obj, rest := args[0], args[1:]
	switch {
	case matches(obj, "fdb"):
		err = s.cmdBridgeFDB(rest)
	case matches(obj, "vlan"):
		err = s.cmdBridgeVlan(rest)
	case matches(obj, "link"):
		err = s.cmdBridgeLink(rest)
	case matches(obj, "help"):
		bridgeUsage(opt.Stderr)
		return exitUsage
	default:
		err = fail(exitUsage, "Object \"%s\" is unknown, try \"bridge help\".", obj)
	}
	if s.out.b.Len() > 0 {
		s.opt.Stdout.Write(s.out.b.Bytes())
	}
	if s.conn != nil {
		s.conn.Close()
	}
	// bridge's commands return -1 on every failure: exit status 255.
	if rc := s.report(err); rc != exitOK {
		return exitUsage
	}
	return exitOK
}

func bridgeUsage(w interface{ Write([]byte) (int, error) }) {
	fmt.Fprint(w, `Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }
where	OBJECT := { link | fdb | mdb | vlan | monitor }
	OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] |
		     -o[neline] | -t[imestamp] | -n[etns] name |
		     -c[ompressvlans] -color -p[retty] -j[son] }
`)
}

// brLinkStateNames are the port states `bridge link` prints.
var brLinkStateNames = brPortStates
