package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
)

// TestImpairedTransfers moves 64 MiB byte-exact under each netem
// impairment (both directions impaired).
func TestImpairedTransfers(t *testing.T) {
	size := 64 << 20
	if testing.Short() {
		size = 4 << 20
	}
	cases := []struct {
		name string
		cfg  sched.NetemConfig
	}{
		{"loss1", sched.NetemConfig{Loss: 0.01, Delay: time.Millisecond}},
		{"loss5", sched.NetemConfig{Loss: 0.05, Delay: time.Millisecond}},
		{"reorder", sched.NetemConfig{Reorder: 0.1, Delay: 2 * time.Millisecond}},
		{"duplicate", sched.NetemConfig{Duplicate: 0.05, Delay: time.Millisecond}},
		{"corrupt", sched.NetemConfig{Corrupt: 0.02, Delay: time.Millisecond}},
		{"delay200", sched.NetemConfig{Delay: 200 * time.Millisecond, Limit: 100000}},
		{"jitter", sched.NetemConfig{Delay: 20 * time.Millisecond, Jitter: 20 * time.Millisecond, Limit: 100000}},
		{"rate", sched.NetemConfig{Rate: 100e6, Delay: 5 * time.Millisecond}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, uint64(10+i), 1500)
			w.netem(c.cfg)
			cli, srv, _ := w.connect(80)
			d := w.transfer(cli, srv, size, 2*time.Hour)
			t.Logf("%d MiB in %v virtual (%.1f Mb/s); %+v", size>>20, d, float64(size)*8/d.Seconds()/1e6, cli.Info)
			if c.cfg.Corrupt > 0 {
				// Corrupted segments must have been caught by the TCP
				// checksum (a bit flipped in a header is the IP layer's
				// or the device's to drop), not delivered.
				tcpErr := w.a.TCP.Stats.InCsumErrors + w.b.TCP.Stats.InCsumErrors
				ipErr := w.a.IPv4.Stats.InHdrErrors + w.b.IPv4.Stats.InHdrErrors
				t.Logf("checksum errors: tcp %d, ip header %d", tcpErr, ipErr)
				if tcpErr == 0 || w.a.TCP.Stats.InErrs+w.b.TCP.Stats.InErrs < tcpErr {
					t.Fatalf("corruption: TCP InCsumErrors %d, InErrs %d+%d", tcpErr, w.a.TCP.Stats.InErrs, w.b.TCP.Stats.InErrs)
				}
			}
		})
	}
}

// TestImpairedTransfersNoSACK repeats the lossy cases with SACK off on the
// receiver: NewReno recovery (RFC 6582) with PRR, as Linux without SACK.
func TestImpairedTransfersNoSACK(t *testing.T) {
	size := 16 << 20
	if testing.Short() {
		size = 2 << 20
	}
	for i, cfg := range []sched.NetemConfig{
		{Loss: 0.01, Delay: time.Millisecond},
		{Loss: 0.05, Delay: time.Millisecond},
		{Reorder: 0.1, Delay: 2 * time.Millisecond},
	} {
		w := newWorld(t, uint64(70+i), 1500)
		w.b.TCP.Sysctl.SACK = false
		w.netem(cfg)
		cli, srv, _ := w.connect(80)
		d := w.transfer(cli, srv, size, 2*time.Hour)
		t.Logf("%+v: %d MiB in %v virtual; %+v", cfg, size>>20, d, cli.Info)
	}
}
