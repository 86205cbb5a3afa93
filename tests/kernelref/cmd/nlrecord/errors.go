package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// errorCase is one request whose reply shows how the kernel lays out
// NLMSG_ERROR: with and without the echoed request, with extended-ACK TLVs.
type errorCase struct {
	name   string
	extAck bool
	capAck bool
	req    []byte
}

func ifinfo(index int32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func errorsCase(w io.Writer) error {
	short := append(ifinfo(1), attr(unix.IFLA_MTU, []byte{0xdc, 0x05})...)
	long := append(ifinfo(1), attr(unix.IFLA_MTU, append(u32(65536), 0, 0, 0, 0))...)
	good := append(ifinfo(1), attr(unix.IFLA_MTU, u32(65536))...)
	missing := ifinfo(999)
	cases := []errorCase{
		{"short IFLA_MTU (2 bytes), ext ack", true, false, request(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 10, short)},
		{"short IFLA_MTU (2 bytes), no ext ack", false, false, request(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 11, short)},
		{"short IFLA_MTU (2 bytes), ext ack + cap ack", true, true, request(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 12, short)},
		{"long IFLA_MTU (8 bytes), ext ack", true, false, request(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 13, long)},
		{"valid IFLA_MTU 65536 on lo, ack", true, false, request(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 14, good)},
		{"GETLINK ifindex 999, ext ack", true, false, request(unix.RTM_GETLINK, unix.NLM_F_REQUEST, 15, missing)},
		{"NEWLINK ifindex 999 without CREATE, ext ack", true, false, request(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 16, missing)},
	}
	for _, c := range cases {
		fd, err := open(0)
		if err != nil {
			return err
		}
		if c.extAck {
			unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
		}
		if c.capAck {
			unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
		}
		fmt.Fprintf(w, "# case: %s\n", c.name)
		fmt.Fprintf(w, "case ext_ack=%v cap_ack=%v\n", c.extAck, c.capAck)
		fmt.Fprintf(w, "request %s\n", hex.EncodeToString(c.req))
		if err := unix.Sendto(fd, c.req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return err
		}
		sa, _ := unix.Getsockname(fd)
		if nl, ok := sa.(*unix.SockaddrNetlink); ok {
			fmt.Fprintf(w, "portid %d\n", nl.Pid)
		}
		buf := make([]byte, 1<<16)
		k, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		writeDatagram(w, 1, buf[:k])
		unix.Close(fd)
	}
	return nil
}
