package framedio

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

func oneFrame(vpf int, caps ...int) *FrameIO {
	f := &FrameIO{VecsPerFrame: vpf}
	for _, c := range caps {
		f.Vecs = append(f.Vecs, Vec{Buf: make([]byte, c)})
	}
	return f
}

func TestPairMultiVector(t *testing.T) {
	a, b := Pair(Info{})
	w := &FrameIO{VecsPerFrame: 2, Vecs: []Vec{
		{Buf: []byte("hello, "), Len: 7}, {Buf: []byte("world!xx"), Len: 6},
		{Buf: []byte("second"), Len: 6}, {Buf: nil},
	}, Meta: []Meta{{Flags: MetaNeedsCsum, CsumStart: 3, CsumOffset: 4}, {}}}
	if n, err := a.Write(w, NonBlock); n != 2 || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	// Read into three 5-byte vectors per frame: "hello, world!" spans all three.
	r := oneFrame(3, 5, 5, 5, 5, 5, 5)
	r.Meta = make([]Meta, 2)
	n, err := b.Read(r, NonBlock)
	if n != 2 || err != nil {
		t.Fatalf("read %d %v", n, err)
	}
	if got := r.Gather(nil, 0); string(got) != "hello, world!" || r.FrameLen(0) != 13 {
		t.Fatalf("frame 0 %q", got)
	}
	if got := r.Gather(nil, 1); string(got) != "second" || r.Vecs[5].Len != 0 {
		t.Fatalf("frame 1 %q", got)
	}
	if r.Meta[0].Flags != MetaNeedsCsum || r.Meta[0].CsumOffset != 4 || r.Meta[1] != (Meta{}) {
		t.Fatalf("meta %+v", r.Meta)
	}
	if _, err := b.Read(r, NonBlock); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("empty read: %v", err)
	}
	s := a.Stats()
	if s.TxFrames != 2 || s.TxBytes != 19 || b.Stats().RxFrames != 2 {
		t.Fatalf("stats %+v %+v", s, b.Stats())
	}
}

func TestPairBadShape(t *testing.T) {
	a, _ := Pair(Info{})
	if _, err := a.Write(&FrameIO{VecsPerFrame: 2, Vecs: make([]Vec, 3)}, NonBlock); err == nil {
		t.Fatal("3 vectors at 2 per frame accepted")
	}
	if _, err := a.Read(&FrameIO{}, NonBlock); err == nil {
		t.Fatal("zero vectors per frame accepted")
	}
	if err := a.SetBufs(MaxBuf+1, 0); err == nil {
		t.Fatal("rxbuf above MaxBuf accepted")
	}
	if err := a.SetBufs(0, 10); err == nil {
		t.Fatal("tiny txbuf accepted")
	}
}

func TestPairTooBigForVectors(t *testing.T) {
	a, b := Pair(Info{})
	w := oneFrame(1, 100)
	w.Vecs[0].Len = 100
	a.Write(w, NonBlock)
	if _, err := b.Read(oneFrame(1, 50), NonBlock); !errors.Is(err, ErrFrameTooBig) {
		t.Fatalf("got %v", err)
	}
	if s := b.Stats(); s.RxErrors != 1 || s.RxFrames != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestPairFlowControl: the bound is min(writer txbuf, reader rxbuf);
// NonBlock returns ErrWouldBlock with the frames that fit, Block waits for
// the reader.
func TestPairFlowControl(t *testing.T) {
	a, b := Pair(Info{})
	if err := b.SetBufs(3000, 0); err != nil {
		t.Fatal(err)
	}
	w := &FrameIO{VecsPerFrame: 1}
	for range 3 {
		w.Vecs = append(w.Vecs, Vec{Buf: make([]byte, 1000), Len: 1000})
	}
	w.Vecs = append(w.Vecs, Vec{Buf: make([]byte, 1000), Len: 1000})
	n, err := a.Write(w, NonBlock)
	if n != 3 || !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("write %d %v, want 3 EAGAIN", n, err)
	}
	if a.Stats().FlowControl != 1 {
		t.Fatalf("flow control %d", a.Stats().FlowControl)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(20 * time.Millisecond)
		b.Read(oneFrame(1, 1500), NonBlock)
	}()
	one := &FrameIO{VecsPerFrame: 1, Vecs: w.Vecs[3:]}
	if n, err := a.Write(one, Block); n != 1 || err != nil {
		t.Fatalf("blocking write %d %v", n, err)
	}
	wg.Wait()
	if a.Stats().FlowControl != 2 {
		t.Fatalf("flow control %d, want 2", a.Stats().FlowControl)
	}
}

func TestPairCloseWakesReader(t *testing.T) {
	a, b := Pair(Info{})
	w := oneFrame(1, 10)
	w.Vecs[0].Len = 10
	a.Write(w, NonBlock)
	errc := make(chan error, 1)
	r := oneFrame(1, 64)
	b.Read(r, Block) // the queued frame drains first
	go func() { _, err := b.Read(r, Block); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	a.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocked read not woken by peer close")
	}
	if _, err := b.Write(w, NonBlock); !errors.Is(err, ErrClosed) {
		t.Fatalf("write to closed peer: %v", err)
	}
}

func TestScatterGather(t *testing.T) {
	f := oneFrame(2, 3, 4)
	if f.Scatter(0, []byte("12345678")) {
		t.Fatal("8 bytes scattered into 7")
	}
	if !f.Scatter(0, []byte("12345")) || !bytes.Equal(f.Gather(nil, 0), []byte("12345")) || f.Vecs[1].Len != 2 {
		t.Fatalf("%+v", f.Vecs)
	}
}
