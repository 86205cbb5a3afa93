package netlink

import (
	"encoding/binary"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDumpWriterPacking(t *testing.T) {
	var w DumpWriter
	w.MaxSize = 256
	w.Reset(42, 1000)
	payload := make([]byte, 80) // 96-byte messages: two per datagram
	for range 5 {
		if err := w.Add(unix.RTM_NEWLINK, payload); err != nil {
			t.Fatal(err)
		}
	}
	w.Finish(0, "")
	// 5 messages of 96 bytes: [96,96] [96,96] [96 + DONE 20].
	if w.NumDatagrams() != 3 {
		t.Fatalf("%d datagrams", w.NumDatagrams())
	}
	total := 0
	for i := range w.NumDatagrams() {
		d := w.Datagram(i)
		if len(d) > w.MaxSize {
			t.Fatalf("datagram %d is %d bytes", i, len(d))
		}
		msgs, err := ParseMessages(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			total++
			if m.Header.Flags&unix.NLM_F_MULTI == 0 || m.Header.Seq != 42 || m.Header.Pid != 1000 {
				t.Errorf("header %+v", m.Header)
			}
		}
		if i == 2 {
			last := msgs[len(msgs)-1]
			if last.Header.Type != unix.NLMSG_DONE || last.Header.Len != 20 || binary.NativeEndian.Uint32(last.Data) != 0 {
				t.Errorf("DONE = %+v %x", last.Header, last.Data)
			}
		}
	}
	if total != 6 {
		t.Fatalf("%d messages", total)
	}
}

func TestDumpWriterDoneAlone(t *testing.T) {
	var w DumpWriter
	w.MaxSize = 200
	w.Reset(1, 2)
	w.Add(unix.RTM_NEWADDR, make([]byte, 180-HeaderLen)) // 180 bytes: DONE (20) would make 200: fits
	w.Add(unix.RTM_NEWADDR, make([]byte, 184-HeaderLen)) // 184: DONE no longer fits
	w.Finish(-int32(unix.EMSGSIZE), "")
	if w.NumDatagrams() != 3 || len(w.Datagram(2)) != 20 {
		t.Fatalf("%d datagrams, last %d bytes", w.NumDatagrams(), len(w.Datagram(w.NumDatagrams()-1)))
	}
	m, _ := ParseMessages(w.Datagram(2))
	if int32(binary.NativeEndian.Uint32(m[0].Data)) != -int32(unix.EMSGSIZE) {
		t.Fatal("DONE errno not carried")
	}
}

// TestDumpWriterLargeMessageAlone: a message larger than the datagram
// size is not dropped (a device would vanish from `ip link show`) but
// sent alone, between the datagrams before and after it.
func TestDumpWriterLargeMessageAlone(t *testing.T) {
	var w DumpWriter
	w.MaxSize = 64
	w.Reset(1, 2)
	for _, n := range []int{8, 100, 8} {
		if err := w.Add(unix.RTM_NEWLINK, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	w.Finish(0, "")
	var sizes []int
	for i := range w.NumDatagrams() {
		sizes = append(sizes, len(w.Datagram(i)))
		if _, err := ParseMessages(w.Datagram(i)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int{24, 116, 24 + 20}; !slices.Equal(sizes, want) {
		t.Fatalf("datagrams of %v bytes, want %v", sizes, want)
	}
}

func TestDumpWriterEmpty(t *testing.T) {
	var w DumpWriter
	w.MaxSize = 64
	w.Reset(1, 2)
	w.Finish(0, "")
	if w.NumDatagrams() != 1 || len(w.Datagram(0)) != 20 {
		t.Fatalf("empty dump: %d datagrams", w.NumDatagrams())
	}
}

func TestDumpWriterInterrupted(t *testing.T) {
	var w DumpWriter
	w.Reset(1, 2)
	w.Add(unix.RTM_NEWROUTE, []byte{1})
	s := w.Begin(unix.RTM_NEWROUTE)
	w.Encoder().Uint32(1, 1)
	w.MarkInterrupted() // detected while building: this message is marked
	w.End(s)
	w.Finish(0, "")
	msgs, _ := ParseMessages(w.Datagram(0))
	want := []bool{false, true, true}
	for i, m := range msgs {
		if got := m.Header.Flags&unix.NLM_F_DUMP_INTR != 0; got != want[i] {
			t.Errorf("message %d DUMP_INTR = %v", i, got)
		}
	}
}

func TestDumpWriterDoneExtAck(t *testing.T) {
	var w DumpWriter
	w.ExtAck = true
	w.Flags = unix.NLM_F_DUMP_FILTERED
	w.Reset(9, 3)
	w.Finish(-int32(unix.EINVAL), "bad filter")
	msgs, err := ParseMessages(w.Datagram(0))
	if err != nil || len(msgs) != 1 {
		t.Fatal(err)
	}
	h := msgs[0].Header
	if h.Flags != unix.NLM_F_MULTI|unix.NLM_F_ACK_TLVS|unix.NLM_F_DUMP_FILTERED {
		t.Errorf("flags %#x", h.Flags)
	}
	d := NewAttributeDecoder(msgs[0].Data[4:])
	if !d.Next() || d.Type() != unix.NLMSGERR_ATTR_MSG || d.String() != "bad filter" {
		t.Errorf("TLV %d %q", d.Type(), d.String())
	}
}

// TestDumpMatchesKernel replays the kernel's RTM_GETADDR dump through a
// DumpWriter sized like the kernel's datagrams and compares the bytes.
func TestDumpMatchesKernel(t *testing.T) {
	dgs := loadDatagrams(t, "../tests/kernelref/testdata/dump-addr.txt")
	var w DumpWriter
	w.MaxSize = len(dgs[0])
	var seq, pid uint32
	first := true
	for _, d := range dgs {
		msgs, err := ParseMessages(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if first {
				seq, pid, first = m.Header.Seq, m.Header.Pid, false
				w.Reset(seq, pid)
			}
			if m.Header.Type == unix.NLMSG_DONE {
				w.Finish(int32(binary.NativeEndian.Uint32(m.Data)), "")
				continue
			}
			if err := w.Add(m.Header.Type, m.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if w.NumDatagrams() != len(dgs) {
		t.Fatalf("%d datagrams, kernel sent %d", w.NumDatagrams(), len(dgs))
	}
	for i := range dgs {
		if string(w.Datagram(i)) != string(dgs[i]) {
			t.Errorf("datagram %d differs\n got %x\nwant %x", i, w.Datagram(i), dgs[i])
		}
	}
}

func TestDumpWriterNoAlloc(t *testing.T) {
	var w DumpWriter
	w.Reset(1, 1)
	p := make([]byte, 100)
	for range 1000 {
		w.Add(unix.RTM_NEWLINK, p)
	}
	w.Finish(0, "")
	n := testing.AllocsPerRun(20, func() {
		w.Reset(1, 1)
		for range 1000 {
			w.Add(unix.RTM_NEWLINK, p)
		}
		w.Finish(0, "")
	})
	if n != 0 {
		t.Fatalf("DumpWriter allocates %v per dump after warm-up", n)
	}
}
