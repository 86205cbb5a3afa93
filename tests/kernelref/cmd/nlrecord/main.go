// Command nlrecord records raw rtnetlink traffic from the kernel for
// usnet's reference tests. It is run by tests/kernelref/record.sh inside a
// throw-away network namespace and decodes only enough of each message to
// label it, so that the recordings do not depend on the code they test.
//
//	nlrecord monitor -out F -ready R   subscribe to the groups and write every
//	                                   notification until SIGTERM
//	nlrecord dump -kind link|addr|route -out F
//	                                   write the raw reply datagrams of a dump
//	nlrecord errors -out F             send malformed/ACK requests and write
//	                                   requests and the kernel's replies
package main

import (
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: nlrecord monitor|dump|errors [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	out := fs.String("out", "", "output file")
	ready := fs.String("ready", "", "file created once subscribed")
	kind := fs.String("kind", "link", "dump kind: link, addr, route")
	fs.Parse(os.Args[2:])
	f, err := os.Create(*out)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	switch os.Args[1] {
	case "monitor":
		err = monitor(f, *ready)
	case "dump":
		err = dump(f, *kind)
	case "errors":
		err = errorsCase(f)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "nlrecord:", err)
	os.Exit(1)
}

func open(groups uint32) (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		return -1, err
	}
	tv := unix.Timeval{Usec: 50000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return -1, err
	}
	return fd, nil
}

func bit(g int) uint32 { return 1 << (g - 1) }

func monitor(w io.Writer, ready string) error {
	groups := bit(unix.RTNLGRP_LINK) | bit(unix.RTNLGRP_IPV4_IFADDR) | bit(unix.RTNLGRP_IPV4_ROUTE) |
		bit(unix.RTNLGRP_IPV4_RULE) | bit(unix.RTNLGRP_NEIGH) | bit(unix.RTNLGRP_IPV4_NETCONF)
	fd, err := open(groups)
	if err != nil {
		return err
	}
	var stop atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; stop.Store(true) }()
	if ready != "" {
		if err := os.WriteFile(ready, []byte("ready\n"), 0o644); err != nil {
			return err
		}
	}
	buf := make([]byte, 1<<16)
	n := 0
	for !stop.Load() {
		k, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		n++
		writeDatagram(w, n, buf[:k])
	}
	return nil
}

func writeDatagram(w io.Writer, n int, d []byte) {
	fmt.Fprintf(w, "# datagram %d: %d bytes\n", n, len(d))
	msgs, err := syscall.ParseNetlinkMessage(d)
	if err != nil {
		fmt.Fprintf(w, "# parse error: %v\n", err)
	}
	for _, m := range msgs {
		fmt.Fprintf(w, "# %s\n", describe(m))
	}
	fmt.Fprintf(w, "datagram %s\n", hex.EncodeToString(d))
}

func dump(w io.Writer, kind string) error {
	fd, err := open(0)
	if err != nil {
		return err
	}
	var typ uint16
	var body []byte
	switch kind {
	case "link":
		typ, body = unix.RTM_GETLINK, make([]byte, unix.SizeofIfInfomsg)
	case "addr":
		typ, body = unix.RTM_GETADDR, make([]byte, unix.SizeofIfAddrmsg)
	case "route":
		typ, body = unix.RTM_GETROUTE, make([]byte, unix.SizeofRtMsg)
	default:
		return fmt.Errorf("unknown kind %q", kind)
	}
	req := request(typ, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, 1, body)
	fmt.Fprintf(w, "request %s\n", hex.EncodeToString(req))
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 1<<16)
	for n := 1; ; n++ {
		k, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		writeDatagram(w, n, buf[:k])
		msgs, _ := syscall.ParseNetlinkMessage(buf[:k])
		for _, m := range msgs {
			if m.Header.Type == unix.NLMSG_DONE || m.Header.Type == unix.NLMSG_ERROR {
				return nil
			}
		}
	}
}

func request(typ, flags uint16, seq uint32, body []byte) []byte {
	b := make([]byte, 16, 16+len(body))
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(16+len(body)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], seq)
	return append(b, body...)
}

func attr(typ uint16, p []byte) []byte {
	b := make([]byte, 4, 4+len(p)+3)
	binary.NativeEndian.PutUint16(b[0:], uint16(4+len(p)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, p...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
