package iproute

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Options configures Run.
type Options struct {
	Stdout, Stderr io.Writer
	// Dial opens the rtnetlink transport; nil means DialKernel.
	Dial Dialer
	// Netns serves `ip netns`; nil means the kernel's /run/netns.
	Netns Namespaces
	// Stdin is read by `-batch -`.
	Stdin io.Reader
	// Done ends `ip monitor` when closed (nil: run until the transport
	// fails, as iproute2 runs until killed).
	Done <-chan struct{}
}

// Exit codes as iproute2 uses them.
const (
	exitOK      = 0
	exitFail    = 1   // missing device, bad object argument
	exitNetlink = 2   // the kernel refused (RTNETLINK answers, Error: ...)
	exitUsage   = 255 // invalid argument (iproute2's exit(-1))
)

// exitError carries iproute2's message and exit status.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func fail(code int, format string, a ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, a...)}
}

// invarg is iproute2's invarg(): a bad value for a keyword.
func invarg(msg, arg string) error {
	return fail(exitUsage, "Error: argument \"%s\" is wrong: %s", arg, msg)
}

func nodev(name string) error { return fail(exitFail, "Cannot find device \"%s\"", name) }

func garbage(what, arg string) error {
	return fail(exitUsage, "Error: either \"%s\" is duplicate, or \"%s\" is a garbage.", what, arg)
}

func incomplete() error { return fail(exitUsage, "Command line is not complete. Try option \"help\"") }

// session is one invocation's state: options, connection, link cache.
type session struct {
	// linkCreate: the `ip link` request being parsed creates (NLM_F_CREATE),
	// which kind parsers tell from a change as iproute2's do.
	linkCreate bool
	opt        Options
	out        *printer
	family     uint8
	ns         string
	json       bool
	pretty     bool
	details    bool
	stats      int
	conn       *Conn
	links      map[int32]*rtmsg.Link
	order      []int32
	// linkFamily is the ifi_family of the link dump: iproute2 asks with
	// the -4/-6 family, and for AF_INET6 the kernel answers with
	// addrconf's reduced link messages.
	linkFamily uint8
	// lookup asks for a link the cache does not know (monitor: a
	// notification may name a link before its RTM_NEWLINK arrives).
	lookup func(index int32) *rtmsg.Link
	nsids  map[int32]string // nsid -> /run/netns name
}

// Run executes one `ip` command line (without the leading "ip") and
// returns the exit status iproute2 would.
func Run(args []string, opt Options) int {
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	if opt.Dial == nil {
		opt.Dial = DialKernel
	}
	if opt.Stdin == nil {
		opt.Stdin = os.Stdin
	}
	s := &session{opt: opt}
	var batch string
	force := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		a := args[0]
		if strings.HasPrefix(a, "--") {
			a = a[1:]
		}
		switch {
		case a == "-4":
			s.family = unix.AF_INET
		case a == "-6":
			s.family = unix.AF_INET6
		case a == "-0":
			s.family = unix.AF_PACKET
		case matches(a, "-family") && len(a) >= 2 && a != "-force":
			if len(args) < 2 {
				return s.report(incomplete())
			}
			args = args[1:]
			f, ok := parseFamily(args[0])
			if !ok {
				return s.report(invarg("invalid protocol family", args[0]))
			}
			s.family = f
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
		case a == "-s" || matches(a, "-stats") || matches(a, "-statistics"):
			s.stats++
		case matches(a, "-batch") && len(a) > 2:
			if len(args) < 2 {
				return s.report(incomplete())
			}
			args = args[1:]
			batch = args[0]
		case matches(a, "-force") && len(a) > 2:
			force = true
		case a == "-V" || matches(a, "-Version"):
			fmt.Fprintln(opt.Stdout, "ip utility, iproute2-6.1.0 (usnet)")
			return exitOK
		case a == "-h" || matches(a, "-help"):
			usage(opt.Stderr)
			return exitFail
		default:
			fmt.Fprintf(opt.Stderr, "Option \"%s\" is unknown, try \"ip -help\".\n", args[0])
			return exitUsage
		}
		args = args[1:]
	}
	if batch != "" {
		return s.runBatch(batch, force)
	}
	if len(args) == 0 {
		usage(opt.Stderr)
		return exitFail
	}
	return s.runOne(args)
}

func (s *session) runOne(args []string) int {
	s.out = &printer{json: s.json, pretty: s.pretty && s.json, ifname: s.ifname}
	s.links, s.order = nil, nil
	err := s.dispatch(args)
	if s.out.b.Len() > 0 {
		s.opt.Stdout.Write(s.out.b.Bytes())
	}
	return s.report(err)
}

func (s *session) report(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	var ne *NetlinkError
	switch {
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(s.opt.Stderr, ee.msg)
		}
		return ee.code
	case errors.As(err, &ne):
		fmt.Fprintln(s.opt.Stderr, ne.Error())
		return exitNetlink
	}
	fmt.Fprintln(s.opt.Stderr, err.Error())
	return exitNetlink
}

func (s *session) runBatch(name string, force bool) int {
	var r io.Reader = s.opt.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(s.opt.Stderr, "Cannot open file \"%s\" for reading: %s\n", name, strerror(err))
			return exitFail
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	line, status := 0, exitOK
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(t, '#'); i >= 0 {
			t = t[:i]
		}
		args := strings.Fields(t)
		if len(args) == 0 {
			continue
		}
		code := s.runOne(args)
		if code == exitUsage {
			// iproute2 exit()s on argument errors, ending the batch.
			return exitUsage
		}
		if code != exitOK {
			fmt.Fprintf(s.opt.Stderr, "Command failed %s:%d\n", name, line)
			status = exitFail
			if !force {
				break
			}
		}
	}
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	return status
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | link | monitor | neighbor | netns | route | rule }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -f[amily] { inet | inet6 | link } |
                    -4 | -6 | -0 | -j[son] | -p[retty] | -n[etns] name | -b[atch] filename }
`)
}

// matches reports whether arg is a prefix of word (iproute2's matches()).
func matches(arg, word string) bool {
	return arg != "" && strings.HasPrefix(word, arg)
}

func parseFamily(s string) (uint8, bool) {
	switch s {
	case "inet", "ipv4":
		return unix.AF_INET, true
	case "inet6", "ipv6":
		return unix.AF_INET6, true
	case "link":
		return unix.AF_PACKET, true
	}
	return 0, false
}

func (s *session) dispatch(args []string) error {
	obj, rest := args[0], args[1:]
	switch {
	case matches(obj, "address"):
		return s.cmdAddr(rest)
	case matches(obj, "link"):
		return s.cmdLink(rest)
	case matches(obj, "route"):
		return s.cmdRoute(rest)
	case matches(obj, "rule"):
		return s.cmdRule(rest)
	case matches(obj, "neighbour") || matches(obj, "neighbor"):
		return s.cmdNeigh(rest)
	case matches(obj, "monitor"):
		return s.cmdMonitor(rest)
	case matches(obj, "netns"):
		return s.cmdNetns(rest)
	case obj == "help":
		usage(s.opt.Stderr)
		return fail(exitFail, "")
	}
	return fail(exitFail, "Object \"%s\" is unknown, try \"ip help\".", obj)
}

// rtnl returns the session's connection, dialling on first use.
func (s *session) rtnl() (*Conn, error) {
	if s.conn != nil {
		return s.conn, nil
	}
	t, err := s.opt.Dial(s.ns)
	if err != nil {
		// iproute2 exit()s when it cannot enter the namespace.
		return nil, fail(exitUsage, "%s", err.Error())
	}
	// iproute2 asks for extended ACKs; transports other than a kernel
	// socket (which sets it itself) take it as an option.
	if o, ok := t.(interface{ SetOption(int, bool) error }); ok {
		o.SetOption(unix.NETLINK_EXT_ACK, true)
	}
	s.conn = NewConn(t)
	return s.conn, nil
}

// transport returns the connection's transport, dialling if needed.
func (s *session) transport() Transport {
	c, err := s.rtnl()
	if err != nil {
		return nil
	}
	return c.t
}

// loadLinks dumps the links once per command, for names and flags.
func (s *session) loadLinks() error {
	if s.links != nil {
		return nil
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	s.links = map[int32]*rtmsg.Link{}
	err = c.Dump(unix.RTM_GETLINK, ifinfomsg(s.linkFamily), func(h netlink.Header, data []byte) error {
		var l rtmsg.Link
		if h.Type != unix.RTM_NEWLINK || l.UnmarshalBinary(data) != nil {
			return nil
		}
		if _, dup := s.links[l.Index]; !dup {
			s.order = append(s.order, l.Index)
		}
		s.links[l.Index] = &l
		return nil
	})
	if errors.Is(err, ErrReentered) {
		s.links, s.order = nil, nil // not loaded: a later call may
	}
	return err
}

// ifindex resolves a device name; 0 when there is none.
func (s *session) ifindex(name string) (int32, error) {
	if err := s.loadLinks(); err != nil {
		return 0, err
	}
	for _, i := range s.order {
		if s.links[i].Name == name {
			return i, nil
		}
	}
	return 0, nil
}

// mustIndex resolves a device name or fails like iproute2's nodev.
func (s *session) mustIndex(name string) (int32, error) {
	i, err := s.ifindex(name)
	if err == nil && i == 0 {
		err = nodev(name)
	}
	return i, err
}

// ifname names an ifindex as ll_index_to_name does ("if%d" if unknown).
func (s *session) ifname(i int32) string {
	if s.loadLinks() == nil {
		if l, ok := s.links[i]; ok {
			return l.Name
		}
		if s.lookup != nil {
			if l := s.lookup(i); l != nil {
				return l.Name
			}
		}
	}
	return fmt.Sprintf("if%d", i)
}

func ifinfomsg(family uint8) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = family
	return b
}
