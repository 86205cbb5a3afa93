package host

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// TestHostTCPFinAckMatchesKernel: a server that closes as soon as it
// reads the client's FIN sends one segment after it, its FIN carrying
// the ACK — the kernel's tcp_fin delays the ACK in CLOSE_WAIT
// (pingpong mode) — for a kernel server and a usnet one alike.
func TestHostTCPFinAckMatchesKernel(t *testing.T) {
	peers := []ackPeer{kernelPeer(t), usnetPeer(t)}
	for _, p := range peers {
		port := uint16(9300)
		l := p.listen(t, port)
		serveConns(l, sinkConn) // read to EOF, then close
		var mu sync.Mutex
		var finOut bool
		var after []header.TCPFlags
		var remove func()
		p.ns.Exec().Do(func() {
			remove = p.ns.Dev.AddTap(p.dev, func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
				h, _, ok := tcpOf(b.Bytes())
				if !ok {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case dir == netdev.DirOut && h.DstPort() == port && h.Flags()&header.TCPFlagFIN != 0:
					finOut = true
				case dir == netdev.DirIn && h.SrcPort() == port && finOut:
					after = append(after, h.Flags())
				}
			})
		})
		c, err := p.ns.Dial("tcp", netip.AddrPortFrom(p.addr, port).String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		c.Close()
		time.Sleep(300 * time.Millisecond)
		p.ns.Exec().Do(remove)
		l.Close()
		mu.Lock()
		t.Logf("%s server after the client's FIN: %v", p.name, after)
		if len(after) != 1 || after[0] != header.TCPFlagFIN|header.TCPFlagACK {
			t.Errorf("%s server after the client's FIN: %v, want one FIN-ACK", p.name, after)
		}
		mu.Unlock()
	}
}
