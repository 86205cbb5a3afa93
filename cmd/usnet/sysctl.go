package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/usnet/usnet/client"
	"github.com/usnet/usnet/sysctl"
)

const sysctlUsage = `usage: usnet sysctl [-n NS] [-a] [-r REGEX] [-w] [--values] [-e] [-q] NAME[=VALUE]...

procps sysctl over a daemon namespace's /proc/sys/net (the names usnet
models). Note: -n is the namespace, as in every usnet command; procps
sysctl's -n (print values only) is --values here.

  -n NS      namespace in the usnet daemon (default: the default namespace)
  -a, -A     list every name
  -r REGEX   only the names matching REGEX (with -a or a directory name)
  -w         write NAME=VALUE arguments (NAME=VALUE also writes without -w)
  --values   print values only
  -e         ignore unknown names
  -q         do not print the values written
`

// sysctlAPI is what the command needs of a namespace (client.Namespace).
type sysctlAPI interface {
	Sysctl(name string) (string, error)
	SetSysctl(name, value string) error
	Sysctls() ([]sysctl.Entry, error)
}

// cmdSysctl exits as procps sysctl 4.0 does: 1 when any name failed.
func cmdSysctl(args []string) error {
	o, names, err := parseSysctlArgs(args)
	if err != nil {
		fmt.Fprint(os.Stderr, sysctlUsage)
		if errors.Is(err, errHelp) {
			return nil
		}
		os.Exit(1)
	}
	c, err := client.Connect("")
	if err != nil {
		return err
	}
	if o.ns != "" {
		l, err := c.Namespaces()
		if err != nil {
			return err
		}
		if !slices.Contains(l, o.ns) {
			fmt.Fprintf(os.Stderr, "Cannot open network namespace %q: No such file or directory\n", o.ns)
			if strings.Contains(o.ns, ".") {
				fmt.Fprintln(os.Stderr, "usnet sysctl: -n names the namespace; procps's -n (values only) is --values")
			}
			os.Exit(255)
		}
	}
	if rc := runSysctl(c.Namespace(o.ns), o, names, os.Stdout, os.Stderr); rc != 0 {
		os.Exit(rc)
	}
	return nil
}

var errHelp = errors.New("help")

type sysctlOpts struct {
	ns                           string
	all, write, values, e, quiet bool
	pattern                      *regexp.Regexp // -r
}

// parseSysctlArgs takes options anywhere, as procps does.
func parseSysctlArgs(args []string) (sysctlOpts, []string, error) {
	var o sysctlOpts
	var names []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--values":
			o.values = true
		case a == "--all":
			o.all = true
		case a == "--write":
			o.write = true
		case a == "--quiet":
			o.quiet = true
		case a == "--ignore":
			o.e = true
		case a == "-h" || a == "--help":
			return o, nil, errHelp
		case a == "-r" || a == "--pattern":
			if i+1 >= len(args) {
				return o, nil, errors.New("-r needs a pattern")
			}
			i++
			re, err := regexp.Compile(args[i])
			if err != nil {
				return o, nil, err
			}
			o.pattern = re
		case a == "-n":
			if i+1 >= len(args) {
				return o, nil, errors.New("-n needs a namespace")
			}
			i++
			o.ns = args[i]
		case strings.HasPrefix(a, "-n"):
			o.ns = a[2:]
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
			for _, f := range a[1:] {
				switch f {
				case 'a', 'A':
					o.all = true
				case 'w':
					o.write = true
				case 'e':
					o.e = true
				case 'q':
					o.quiet = true
				default:
					return o, nil, fmt.Errorf("unknown option -%c", f)
				}
			}
		case strings.HasPrefix(a, "-"):
			return o, nil, fmt.Errorf("unknown option %s", a)
		default:
			names = append(names, a)
		}
	}
	if !o.all && len(names) == 0 {
		return o, nil, errors.New("no variables specified")
	}
	return o, names, nil
}

// runSysctl does the work and returns the exit code.
func runSysctl(ns sysctlAPI, o sysctlOpts, names []string, out, errw io.Writer) int {
	rc := 0
	show := func(name, v string) {
		if o.values {
			fmt.Fprintln(out, v)
		} else {
			fmt.Fprintf(out, "%s = %s\n", name, v)
		}
	}
	if o.all {
		l, err := ns.Sysctls()
		if err != nil {
			fmt.Fprintf(errw, "sysctl: %v\n", err)
			return 1
		}
		for _, e := range l {
			if listed(o, e.Name) {
				show(e.Name, e.Value)
			}
		}
		return 0
	}
	for _, arg := range names {
		name, value, isWrite := strings.Cut(arg, "=")
		name = dotted(strings.TrimSpace(name))
		if o.write && !isWrite {
			// procps's words for it.
			fmt.Fprintf(errw, "sysctl: command line(0): invalid syntax, continuing...\n")
			rc = 1
			continue
		}
		if !isWrite {
			v, err := ns.Sysctl(name)
			if errors.Is(err, syscall.ENOENT) {
				// A directory: list what is under it.
				if sub := under(ns, name); len(sub) > 0 {
					for _, e := range sub {
						if listed(o, e.Name) {
							show(e.Name, e.Value)
						}
					}
					continue
				}
			}
			if err != nil {
				rc |= sysctlErr(errw, o, name, err, false)
				continue
			}
			show(name, v)
			continue
		}
		value = strings.TrimSpace(value)
		if err := ns.SetSysctl(name, value); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				if _, rerr := ns.Sysctl(name); rerr == nil {
					// The name exists: the value named nothing
					// (tcp_congestion_control).
					fmt.Fprintf(errw, "sysctl: setting key %q: %s\n", name, errText(syscall.ENOENT))
					rc = 1
					continue
				}
			}
			rc |= sysctlErr(errw, o, name, err, true)
			continue
		}
		if !o.quiet {
			show(name, value)
		}
	}
	return rc
}

// listed tells whether a listing (-a, a directory) shows name: it
// matches -r, and it is not one of the names procps calls deprecated
// and leaves out of listings (they still read by name).
func listed(o sysctlOpts, name string) bool {
	switch name[strings.LastIndexByte(name, '.')+1:] {
	case "base_reachable_time", "retrans_time":
		return false
	}
	return o.pattern == nil || o.pattern.MatchString(name)
}

// sysctlErr prints procps sysctl's message for err and returns the exit
// code it contributes.
func sysctlErr(errw io.Writer, o sysctlOpts, name string, err error, write bool) int {
	switch {
	case errors.Is(err, syscall.ENOENT):
		if o.e {
			return 0
		}
		fmt.Fprintf(errw, "sysctl: cannot stat %s: %s\n", procPath(name), errText(syscall.ENOENT))
		return 1
	case errors.Is(err, syscall.EPERM):
		fmt.Fprintf(errw, "sysctl: permission denied on key %q\n", name)
		return 1
	case write && errors.Is(err, syscall.EACCES):
		// A read-only name: procps sees no write permission, says
		// so with EINVAL's text and does not count it as a failure.
		fmt.Fprintf(errw, "sysctl: setting key %q: %s\n", name, errText(syscall.EINVAL))
		return 0
	case write && errors.Is(err, syscall.EINVAL):
		fmt.Fprintf(errw, "sysctl: setting key %q: %s\n", name, errText(syscall.EINVAL))
		return 1
	}
	fmt.Fprintf(errw, "sysctl: %s: %v\n", name, err)
	return 1
}

// errText is strerror(3)'s text: Go's errno strings are lower case.
func errText(e syscall.Errno) string {
	s := e.Error()
	return strings.ToUpper(s[:1]) + s[1:]
}

// dotted turns procps's slash form ("net/ipv4/conf/eth0.5/forwarding")
// into the dotted one ("net.ipv4.conf.eth0/5.forwarding").
func dotted(name string) string {
	if i := strings.IndexAny(name, "./"); i < 0 || name[i] == '.' {
		return name
	}
	return swapSeparators(name)
}

// procPath is the file a dotted name is under /proc/sys.
func procPath(name string) string { return "/proc/sys/" + swapSeparators(name) }

func swapSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, s)
}

// under lists the names below a directory name ("net.ipv4.conf.lo").
func under(ns sysctlAPI, dir string) []sysctl.Entry {
	l, err := ns.Sysctls()
	if err != nil {
		return nil
	}
	var out []sysctl.Entry
	for _, e := range l {
		if strings.HasPrefix(e.Name, dir+".") {
			out = append(out, e)
		}
	}
	return out
}
