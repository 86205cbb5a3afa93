package netlink

import (
	"testing"

	"golang.org/x/sys/unix"
)

func BenchmarkParseDump(b *testing.B) {
	var buf []byte
	for i := range 64 {
		buf = append(buf, msg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, uint32(i), make([]byte, 44))...)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		it := NewMessageIter(buf)
		for it.Next() {
			d := NewAttributeDecoder(it.Data()[12:])
			for d.Next() {
			}
		}
	}
}

func BenchmarkDumpWriter(b *testing.B) {
	var w DumpWriter
	p := make([]byte, 44)
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(1, 1)
		for range 1000 {
			w.Add(unix.RTM_NEWROUTE, p)
		}
		w.Finish(0, "")
	}
}

func BenchmarkAppendError(b *testing.B) {
	req := Message{Header: Header{Len: 40, Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK, Seq: 1}, Data: make([]byte, 24)}
	ext := &ExtAck{Msg: MsgPolicyValidation, HasOffset: true, Offset: 32}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendError(buf[:0], req, 1, -int32(unix.ERANGE), AckOptions{ExtAck: true}, ext)
	}
}
