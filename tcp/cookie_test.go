package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/tcp"
)

// TestSynCookieKeepsOptions: with tcp_syncookies 2 every SYN is answered
// by a cookie, and the options of the SYN survive in the SYN-ACK's
// timestamp: window scaling both ways, SACK, timestamps and ECN, as
// Linux's cookie_init_timestamp and cookie_timestamp_decode keep them.
// Without timestamps in the SYN, the connection has none of them.
func TestSynCookieKeepsOptions(t *testing.T) {
	for _, c := range []struct {
		name                 string
		clientTS, serverSACK bool
		clientECN            int
	}{
		{"all", true, true, 1},
		{"no-ecn", true, true, 2},
		{"no-sack", true, false, 2},
		{"no-timestamps", false, true, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, 21, 1500)
			w.a.Exec().Do(func() {
				w.a.TCP.Sysctl.Timestamps = c.clientTS
				w.a.TCP.Sysctl.ECN = c.clientECN
			})
			w.b.Exec().Do(func() {
				w.b.TCP.Sysctl.Syncookies = 2
				w.b.TCP.Sysctl.SACK = c.serverSACK
			})
			cli, srv, _ := w.connect(80)
			if s := w.b.TCP.Stats; s.SyncookiesSent != 1 || s.SyncookiesRecv != 1 {
				t.Fatalf("not a cookie connection: sent %d recv %d", s.SyncookiesSent, s.SyncookiesRecv)
			}
			var ci, si tcp.Info
			w.a.Exec().Do(func() { ci = cli.TCPInfo() })
			w.b.Exec().Do(func() { si = srv.TCPInfo() })
			ts, sack, ecn := c.clientTS, c.clientTS && c.serverSACK, c.clientTS && c.clientECN == 1
			for _, x := range []struct {
				side string
				i    tcp.Info
			}{{"client", ci}, {"server", si}} {
				if x.i.Timestamps != ts || x.i.SACK != sack || x.i.WScale != ts || x.i.ECN != ecn {
					t.Errorf("%s: timestamps %v sack %v wscale %v ecn %v, want %v %v %v %v",
						x.side, x.i.Timestamps, x.i.SACK, x.i.WScale, x.i.ECN, ts, sack, ts, ecn)
				}
			}
			if ci.SndWScale != si.RcvWScale || ci.RcvWScale != si.SndWScale {
				t.Errorf("window scales: client snd %d rcv %d, server snd %d rcv %d",
					ci.SndWScale, ci.RcvWScale, si.SndWScale, si.RcvWScale)
			}
			if ts && ci.RcvWScale == 0 {
				t.Errorf("client offers no window scale: %+v", ci)
			}
			// The server's first RTT sample is the echoed timestamp's age:
			// the round trip plus what the option bits took off the clock.
			if ts && (si.RTT <= 0 || si.RTT > 70*time.Millisecond) {
				t.Errorf("server RTT %v from the echoed cookie timestamp", si.RTT)
			}
			if !ts && si.RTO != 3*time.Second {
				t.Errorf("server RTO %v without an RTT sample, want 3s", si.RTO)
			}
			w.netem(sched.NetemConfig{Loss: 0.01})
			w.transfer(cli, srv, 4<<20, time.Minute)
			w.transfer(srv, cli, 4<<20, time.Minute)
		})
	}
}
