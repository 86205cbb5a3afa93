package netlink

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func msg(typ, flags uint16, seq uint32, data []byte) []byte {
	return AppendMessage(nil, Header{Type: typ, Flags: flags, Seq: seq, Pid: 7}, data)
}

func TestParseMessagesMulti(t *testing.T) {
	var b []byte
	b = append(b, msg(unix.RTM_NEWLINK, unix.NLM_F_MULTI, 1, []byte{1, 2, 3})...) // padded to 20
	b = append(b, msg(unix.RTM_NEWADDR, unix.NLM_F_MULTI, 2, []byte{9, 9, 9, 9, 9})...)
	b = append(b, msg(unix.NLMSG_DONE, unix.NLM_F_MULTI, 3, []byte{0, 0, 0, 0})...)
	msgs, err := ParseMessages(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("got %d messages", len(msgs))
	}
	if h := msgs[0].Header; h.Len != 19 || h.Type != unix.RTM_NEWLINK || h.Seq != 1 || h.Pid != 7 || h.Flags != unix.NLM_F_MULTI {
		t.Errorf("header 0 = %+v", h)
	}
	if !bytes.Equal(msgs[0].Data, []byte{1, 2, 3}) || !bytes.Equal(msgs[1].Data, []byte{9, 9, 9, 9, 9}) {
		t.Errorf("data = %x, %x", msgs[0].Data, msgs[1].Data)
	}
	if msgs[2].Header.Type != unix.NLMSG_DONE {
		t.Errorf("third = %+v", msgs[2].Header)
	}
}

func TestParseMessagesTrailing(t *testing.T) {
	one := msg(unix.RTM_NEWLINK, 0, 1, []byte{1})
	// Last message without its alignment padding: accepted.
	unpadded := one[:17]
	if msgs, err := ParseMessages(unpadded); err != nil || len(msgs) != 1 || len(msgs[0].Data) != 1 {
		t.Fatalf("unpadded: %v %v", msgs, err)
	}
	// Trailing garbage shorter than a header: ignored without error.
	for n := 1; n < HeaderLen; n++ {
		b := append(append([]byte(nil), one...), make([]byte, n)...)
		msgs, err := ParseMessages(b)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("trailing %d: %d msgs, %v", n, len(msgs), err)
		}
	}
	if msgs, err := ParseMessages(nil); err != nil || len(msgs) != 0 {
		t.Fatalf("empty: %v %v", msgs, err)
	}
}

func TestParseMessagesBadLength(t *testing.T) {
	good := msg(unix.RTM_NEWLINK, 0, 1, []byte{1, 2, 3, 4})
	short := msg(unix.RTM_NEWLINK, 0, 2, nil)
	short[0] = 15 // nlmsg_len < 16
	over := msg(unix.RTM_NEWLINK, 0, 3, []byte{1, 2, 3, 4})
	over[0] = 21 // runs past the end
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"short", append(append([]byte(nil), good...), short...), ErrShortLen},
		{"zero", make([]byte, 16), ErrShortLen},
		{"overrun", append(append([]byte(nil), good...), over...), ErrLenOverrun},
	} {
		msgs, err := ParseMessages(c.b)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if c.name != "zero" && len(msgs) != 1 {
			t.Errorf("%s: want the good message before the bad one, got %d", c.name, len(msgs))
		}
	}
}

func TestMessageIterRawAndOffset(t *testing.T) {
	a := msg(unix.RTM_NEWLINK, 0, 1, []byte{1, 2, 3})
	b := msg(unix.RTM_NEWADDR, 0, 2, []byte{4})
	buf := append(append([]byte(nil), a...), b...)
	it := NewMessageIter(buf)
	var offs []int
	for it.Next() {
		offs = append(offs, it.Offset())
		if got := it.Raw(); len(got) != int(it.Header().Len) {
			t.Errorf("raw len %d, header %d", len(got), it.Header().Len)
		}
	}
	if it.Err() != nil || len(offs) != 2 || offs[1] != 20 {
		t.Fatalf("offsets %v err %v", offs, it.Err())
	}
}

func TestMessageIterNoAlloc(t *testing.T) {
	var buf []byte
	for i := range 8 {
		buf = append(buf, msg(unix.RTM_NEWLINK, 0, uint32(i), make([]byte, i))...)
	}
	n := testing.AllocsPerRun(100, func() {
		it := NewMessageIter(buf)
		for it.Next() {
		}
	})
	if n != 0 {
		t.Fatalf("MessageIter allocates %v per run", n)
	}
}

func TestMarshalBinary(t *testing.T) {
	m := Message{Header: Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP, Seq: 5}, Data: []byte{0}}
	b, _ := m.MarshalBinary()
	if len(b) != 20 {
		t.Fatalf("len %d", len(b))
	}
	h, _ := DecodeHeader(b)
	if h.Len != 17 || h.Type != unix.RTM_GETLINK || h.Seq != 5 {
		t.Fatalf("header %+v", h)
	}
	if _, err := DecodeHeader(b[:15]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short header: %v", err)
	}
}
