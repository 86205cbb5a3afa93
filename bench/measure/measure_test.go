package measure

import (
	"net"
	"testing"
	"time"
)

func TestLoopsOverLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dial := func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) }
	gbps, err := Bulk(ln, dial, 1<<20)
	if err != nil || gbps <= 0 {
		t.Fatalf("bulk %v %v", gbps, err)
	}
	go ServeEcho(ln)
	defer ln.Close()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	d, err := RR(c, 1024, 5, 50)
	c.Close()
	if err != nil || len(d) != 50 || Percentile(d, 99) < Percentile(d, 50) {
		t.Fatalf("rr %v %v", len(d), err)
	}
	if r, err := ConnRate(dial, 20); err != nil || r <= 0 {
		t.Fatalf("connrate %v %v", r, err)
	}
	rx, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.Dial("udp", rx.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rxp, txp := UDPRate(rx, tx, 18, 100*time.Millisecond)
	if rxp <= 0 || txp <= 0 {
		t.Fatalf("udp %v %v", rxp, txp)
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{5, 1, 4, 2, 3}
	if Percentile(d, 50) != 3 || Percentile(d, 100) != 5 || Percentile(d, 0) != 1 || Percentile(nil, 50) != 0 {
		t.Fatal(Percentile(d, 50), Percentile(d, 100), Percentile(d, 0))
	}
}
