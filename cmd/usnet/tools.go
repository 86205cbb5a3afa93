package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/usnet/usnet/tools"
)

// nsFlag adds -n NS to a command's flags.
func nsFlag(fs *flag.FlagSet) *string {
	return fs.String("n", "", "namespace in the usnet daemon (default: the default namespace)")
}

// interrupted is a context cancelled by ^C.
func interrupted() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// cmdPing exits as iputils ping does: 1 when no reply came, 2 on any
// other error (usage, permissions, the daemon).
func cmdPing(args []string) error {
	err := ping(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case tools.IsNoReply(err):
		os.Exit(1)
	case err != nil:
		fmt.Fprintf(os.Stderr, "usnet ping: %v\n", err)
		os.Exit(2)
	}
	return nil
}

func ping(args []string) error {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	ns := nsFlag(fs)
	count := fs.Int("c", 0, "stop after COUNT replies")
	interval := fs.Float64("i", 1, "seconds between requests")
	size := fs.Int("s", 56, "payload bytes")
	wait := fs.Float64("W", 2, "seconds to wait for the last reply")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: usnet ping [-n NS] [-c N] [-i S] [-s SIZE] DEST")
	}
	api, err := openNamespace(*ns)
	if err != nil {
		return err
	}
	ctx, cancel := interrupted()
	defer cancel()
	_, err = tools.Ping(ctx, pingNamespace{api}, fs.Arg(0), tools.PingOptions{
		Count: *count, Interval: time.Duration(*interval * float64(time.Second)), Size: *size,
		Timeout: time.Duration(*wait * float64(time.Second)),
	}, os.Stdout)
	return err
}

// pingNamespace opens ICMP sockets as iputils ping does: an ICMP
// datagram socket when net.ipv4.ping_group_range admits the user's
// groups, else (EACCES) a raw socket, which needs privileges (EPERM for
// a user who is not the daemon's administrator). On a namespace with the
// default range "1 0" only administrators can ping, as only a ping with
// CAP_NET_RAW can on a default kernel.
type pingNamespace struct{ tools.Namespace }

func (n pingNamespace) ListenPacket(network, addr string) (net.PacketConn, error) {
	if network == "ip4:icmp" {
		pc, err := n.Namespace.ListenPacket("udp4:icmp", addr)
		if !errors.Is(err, syscall.EACCES) {
			return pc, err
		}
	}
	return n.Namespace.ListenPacket(network, addr)
}

func cmdNC(args []string) error {
	fs := flag.NewFlagSet("nc", flag.ContinueOnError)
	ns := nsFlag(fs)
	listen := fs.Bool("l", false, "listen for one connection")
	udp := fs.Bool("u", false, "UDP")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var host, port string
	switch fs.NArg() {
	case 1:
		port = fs.Arg(0)
	case 2:
		host, port = fs.Arg(0), fs.Arg(1)
	default:
		return errors.New("usage: usnet nc [-n NS] [-l] [-u] [HOST] PORT")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("bad port %q", port)
	}
	api, err := openNamespace(*ns)
	if err != nil {
		return err
	}
	ctx, cancel := interrupted()
	defer cancel()
	return tools.NC(ctx, api, host+":"+port, tools.NCOptions{Listen: *listen, UDP: *udp}, os.Stdin, os.Stdout)
}

func cmdHTTP(args []string) error {
	if len(args) < 1 {
		return errors.New("usage: usnet http [-n NS] serve DIR [--addr A] | get URL [-o FILE]")
	}
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	ns := nsFlag(fs)
	addr := fs.String("addr", ":80", "serve: listen address")
	out := fs.String("o", "-", "get: output file")
	// -n may come before the verb.
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) < 2 {
		return errors.New("usage: usnet http [-n NS] serve DIR [--addr A] | get URL [-o FILE]")
	}
	verb, arg := rest[0], rest[1]
	if err := fs.Parse(rest[2:]); err != nil {
		return err
	}
	api, err := openNamespace(*ns)
	if err != nil {
		return err
	}
	ctx, cancel := interrupted()
	defer cancel()
	switch verb {
	case "serve":
		return tools.HTTPServe(ctx, api, arg, *addr, os.Stderr)
	case "get":
		w, err := tools.CreateOutput(*out)
		if err != nil {
			return err
		}
		n, sum, err := tools.HTTPGet(ctx, api, arg, w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			fmt.Fprintf(os.Stderr, "%d bytes, sha256 %s\n", n, sum)
		}
		return err
	}
	return fmt.Errorf("http: unknown verb %q", verb)
}

func cmdPerf(args []string) error {
	fs := flag.NewFlagSet("perf", flag.ContinueOnError)
	ns := nsFlag(fs)
	server := fs.Bool("s", false, "run as server")
	once := fs.Bool("1", false, "server: exit after one test")
	client := fs.String("c", "", "run as client to HOST")
	port := fs.Int("p", 5201, "port")
	interval := fs.Float64("i", 1, "seconds between periodic reports (0 for none)")
	jsonOut := fs.Bool("J", false, "output in JSON format")
	format := fs.String("f", "", "bitrate unit: k, m, g, t (bits/sec) or K, M, G, T (bytes/sec); default adapts")
	secs := fs.Float64("t", 10, "client: seconds to transmit")
	// iperf3's -n is --bytes here: -n names the namespace in every
	// usnet command.
	bytes := fs.String("bytes", "0", "client: bytes to transmit (instead of -t; iperf3's -n), with K/M/G suffixes")
	reverse := fs.Bool("R", false, "client: the server sends")
	parallel := fs.Int("P", 1, "client: parallel streams")
	block := fs.String("l", "", "client: length of the buffer to write, with K/M/G suffixes (128K; UDP: the path's MSS)")
	window := fs.String("w", "0", "client: socket buffer sizes (SO_SNDBUF and SO_RCVBUF), with K/M/G suffixes")
	congestion := fs.String("C", "", "client: congestion control algorithm (TCP_CONGESTION)")
	omit := fs.Int("O", 0, "client: omit the first N seconds")
	udp := fs.Bool("u", false, "client: UDP instead of TCP")
	bitrate := fs.String("b", "", "client: UDP target bitrate in bits/sec, with K/M/G suffixes (powers of 1000; default 1M, 0 for no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == (*client != "") || fs.NArg() != 0 {
		return errors.New("usage: usnet perf [-n NS] -s [-1] [-p PORT] [-i S] [-J] | -c HOST [-p PORT] [-i S] [-J] [-t S] [--bytes N] [-R] [-P N] [-l LEN] [-w SIZE] [-C ALGO] [-O N] [-u [-b RATE]] [-f UNIT]")
	}
	nBytes, err := perfSize(*bytes)
	if err != nil {
		return fmt.Errorf("--bytes: %w", err)
	}
	var nBlock int64 // 0: the default
	if *block != "" {
		if nBlock, err = perfSize(*block); err != nil || nBlock <= 0 || nBlock > 1<<20 {
			return fmt.Errorf("-l: bad block length %q", *block)
		}
	}
	nWindow, err := perfSize(*window)
	if err != nil || nWindow > 1<<30 {
		return fmt.Errorf("-w: bad window size %q", *window)
	}
	var unit byte // 0: adaptive
	if *format != "" {
		if len(*format) != 1 || !strings.Contains("kmgtKMGT", *format) {
			return fmt.Errorf("-f: bad format %q (one of k, m, g, t, K, M, G, T)", *format)
		}
		unit = (*format)[0]
	}
	var rate int64 // 0: iperf3's default
	if *bitrate != "" {
		if rate, err = perfRate(*bitrate); err != nil {
			return fmt.Errorf("-b: %w", err)
		}
		if rate == 0 {
			rate = -1 // no limit
		}
	}
	if *interval < 0 || *omit < 0 || *parallel < 1 || *parallel > 128 {
		return errors.New("perf: -i, -O must not be negative, -P from 1 to 128")
	}
	every := time.Duration(*interval * float64(time.Second))
	api, err := openNamespace(*ns)
	if err != nil {
		return err
	}
	ctx, cancel := interrupted()
	defer cancel()
	if *server {
		return tools.PerfServe(ctx, api, fmt.Sprintf(":%d", *port),
			tools.PerfServerOptions{Once: *once, Interval: every, JSON: *jsonOut, Format: unit}, os.Stdout)
	}
	_, err = tools.PerfClient(ctx, api, net.JoinHostPort(*client, strconv.Itoa(*port)), tools.PerfOptions{
		Duration: time.Duration(*secs * float64(time.Second)), Bytes: nBytes, Reverse: *reverse, Parallel: *parallel,
		Block: int(nBlock), Interval: every, Omit: time.Duration(*omit) * time.Second, Window: int(nWindow),
		Congestion: *congestion, JSON: *jsonOut, UDP: *udp, Bitrate: rate, Format: unit,
	}, os.Stdout)
	return err
}

// perfRate parses iperf3's bitrates: a number with an optional K, M, G
// or T suffix, powers of 1000.
func perfRate(s string) (int64, error) {
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1e3
		case 'm', 'M':
			mult = 1e6
		case 'g', 'G':
			mult = 1e9
		case 't', 'T':
			mult = 1e12
		}
		if mult > 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad bitrate %q", s)
	}
	return int64(v * mult), nil
}

// perfSize parses iperf3's sizes: a number with an optional K, M, G or T
// suffix (powers of 1024, either case).
func perfSize(s string) (int64, error) {
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case 't', 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(v * float64(mult)), nil
}
