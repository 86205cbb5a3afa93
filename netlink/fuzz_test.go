package netlink

import (
	"testing"

	"golang.org/x/sys/unix"
)

func FuzzParseMessages(f *testing.F) {
	f.Add(msg(unix.RTM_NEWLINK, unix.NLM_F_MULTI, 1, []byte{1, 2, 3}))
	f.Add(append(msg(unix.NLMSG_DONE, unix.NLM_F_MULTI, 1, []byte{0, 0, 0, 0}), 1, 2))
	f.Add(AppendError(nil, Message{Header: Header{Len: 20, Type: 16}, Data: []byte{1, 2, 3, 4}}, 1, -22, AckOptions{ExtAck: true},
		&ExtAck{Msg: "m", HasOffset: true, Offset: 16}))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := ParseMessages(b)
		it := NewMessageIter(b)
		n := 0
		for it.Next() {
			if int(it.Header().Len) != HeaderLen+len(it.Data()) {
				t.Fatalf("len %d data %d", it.Header().Len, len(it.Data()))
			}
			if it.Header().Type == unix.NLMSG_ERROR {
				ParseError(it.Header().Flags, it.Data())
			}
			n++
		}
		if n != len(msgs) || (err == nil) != (it.Err() == nil) {
			t.Fatalf("iter %d/%v, slice %d/%v", n, it.Err(), len(msgs), err)
		}
		// Re-encoding what parsed gives the same messages back.
		var out []byte
		for _, m := range msgs {
			out = AppendMessage(out, m.Header, m.Data)
		}
		again, err := ParseMessages(out)
		if err != nil || len(again) != len(msgs) {
			t.Fatalf("re-parse: %d %v", len(again), err)
		}
	})
}

func FuzzAttributes(f *testing.F) {
	f.Add(nest(3))
	f.Add(nest(MaxNestDepth + 2))
	e := NewAttributeEncoder(nil)
	e.String(1, "x")
	n := e.BeginNest(2 | FlagNested)
	e.Uint64(3, 9)
	e.EndNest(n)
	f.Add(e.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		var walkAll func(d AttributeDecoder) int
		walkAll = func(d AttributeDecoder) int {
			c := 0
			for d.Next() {
				c++
				d.Uint8()
				d.Uint16()
				d.Uint32()
				d.Uint64()
				d.Int32()
				d.Addr()
				_ = d.String()
				if d.Offset() < 0 || d.Offset()+AttrHeaderLen > len(b) {
					t.Fatalf("offset %d out of range", d.Offset())
				}
				// Try every attribute as a nest, whatever its flag.
				nd, err := d.Nested()
				if err != nil {
					if d.Depth() < MaxNestDepth {
						t.Fatalf("depth %d refused", d.Depth())
					}
					continue
				}
				c += walkAll(nd)
			}
			return c
		}
		walkAll(NewAttributeDecoder(b))
	})
}
