package netlink

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestResolveNew(t *testing.T) {
	const (
		C = unix.NLM_F_CREATE
		X = unix.NLM_F_EXCL
		R = unix.NLM_F_REPLACE
		A = unix.NLM_F_APPEND
	)
	for _, c := range []struct {
		name   string
		flags  uint16
		exists bool
		op     NewOp
		errno  unix.Errno
	}{
		{"ip route add, new", C | X, false, OpCreate, 0},
		{"ip route add, exists", C | X, true, 0, unix.EEXIST},
		{"ip route replace, new", C | R, false, OpCreate, 0},
		{"ip route replace, exists", C | R, true, OpReplace, 0},
		{"ip route change, new", R, false, 0, unix.ENOENT},
		{"ip route change, exists", R, true, OpReplace, 0},
		{"ip route append, exists", C | A, true, OpAppend, 0},
		{"ip route prepend, exists", C, true, OpExisting, 0},
		{"ip link set, exists", 0, true, OpExisting, 0},
		{"ip link set, missing", 0, false, 0, unix.ENOENT},
		{"EXCL wins over REPLACE", X | R, true, 0, unix.EEXIST},
	} {
		op, errno := ResolveNew(c.flags, c.exists)
		if op != c.op || errno != c.errno {
			t.Errorf("%s: got %v %v, want %v %v", c.name, op, errno, c.op, c.errno)
		}
	}
}

func TestRequestFlags(t *testing.T) {
	if !IsDump(unix.NLM_F_ROOT) || !IsDump(unix.NLM_F_MATCH) || !IsDump(unix.NLM_F_DUMP) || IsDump(unix.NLM_F_ACK) {
		t.Error("IsDump")
	}
	if IsRequest(Header{Type: unix.RTM_GETLINK}) || !IsRequest(Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST}) ||
		IsRequest(Header{Type: unix.NLMSG_NOOP, Flags: unix.NLM_F_REQUEST}) {
		t.Error("IsRequest")
	}
	if WantsAck(0, 0) || !WantsAck(unix.NLM_F_ACK, 0) || !WantsAck(0, -1) {
		t.Error("WantsAck")
	}
	if !Echo(unix.NLM_F_ECHO) || Echo(0) {
		t.Error("Echo")
	}
}

func TestAckLayout(t *testing.T) {
	req := Message{Header: Header{Len: 24, Type: unix.RTM_NEWADDR, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK, Seq: 77, Pid: 5}, Data: make([]byte, 8)}
	// ACK: always capped, never echoes the payload.
	b := AppendAck(nil, req, 1234, AckOptions{}, nil)
	if len(b) != 36 {
		t.Fatalf("ack len %d", len(b))
	}
	m, _ := ParseMessages(b)
	if h := m[0].Header; h.Type != unix.NLMSG_ERROR || h.Flags != unix.NLM_F_CAPPED || h.Seq != 77 || h.Pid != 1234 {
		t.Fatalf("ack header %+v", h)
	}
	// A warning message on an ACK is sent; an offset is not.
	ext := &ExtAck{Msg: "warn", HasOffset: true, Offset: 20, Cookie: []byte{1, 2, 3, 4}}
	b = AppendAck(nil, req, 1, AckOptions{ExtAck: true}, ext)
	m, _ = ParseMessages(b)
	er, err := ParseError(m[0].Header.Flags, m[0].Data)
	if err != nil || m[0].Header.Flags != unix.NLM_F_CAPPED|unix.NLM_F_ACK_TLVS {
		t.Fatal(err, m[0].Header)
	}
	d := NewAttributeDecoder(er.TLVs)
	var types []uint16
	for d.Next() {
		types = append(types, d.Type())
	}
	if len(types) != 2 || types[0] != unix.NLMSGERR_ATTR_MSG || types[1] != unix.NLMSGERR_ATTR_COOKIE {
		t.Fatalf("ack TLVs %v", types)
	}
	// Error with every TLV: message, cookie, offset, policy, miss type, miss nest.
	ext = &ExtAck{Msg: "x", Cookie: []byte{9}, HasOffset: true, Offset: 20, Policy: AppendPolicyUnsigned(nil, 8),
		MissType: 3, HasMissNest: true, MissNest: 16}
	b = AppendError(nil, req, 1, -int32(unix.EINVAL), AckOptions{ExtAck: true}, ext)
	m, _ = ParseMessages(b)
	er, _ = ParseError(m[0].Header.Flags, m[0].Data)
	if len(er.Payload) != 8 || er.Errno != -int32(unix.EINVAL) {
		t.Fatalf("payload %d errno %d", len(er.Payload), er.Errno)
	}
	d = NewAttributeDecoder(er.TLVs)
	types = types[:0]
	for d.Next() {
		types = append(types, d.Type())
	}
	want := []uint16{1, 3, 2, 4, 5, 6}
	if len(types) != len(want) {
		t.Fatalf("error TLVs %v", types)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("error TLVs %v, want %v", types, want)
		}
	}
	// Without NETLINK_EXT_ACK no TLVs and no flag.
	b = AppendError(nil, req, 1, -1, AckOptions{}, ext)
	m, _ = ParseMessages(b)
	if m[0].Header.Flags != 0 || len(b) != 16+4+24 {
		t.Fatalf("plain error flags %#x len %d", m[0].Header.Flags, len(b))
	}
	if _, err := ParseError(0, make([]byte, 10)); err == nil {
		t.Fatal("short error payload accepted")
	}
}
