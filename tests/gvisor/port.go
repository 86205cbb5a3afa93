package gvinterop

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/usnet/usnet/framedio"
)

// PortConfig describes the link between usnet and gVisor.
type PortConfig struct {
	// MTU is the IP MTU of both ends (0: 1500).
	MTU int
	// MAC is the gVisor NIC's address.
	MAC [6]byte
	// QueueLen bounds gVisor's outbound queue in frames (0: 4096); what
	// does not fit is dropped by gVisor's channel endpoint.
	QueueLen int
	// RxLoss drops this fraction of gVisor's frames before usnet reads
	// them, drawn from a PCG seeded with Seed: loss on the gVisor-to-usnet
	// direction, which a netem qdisc on the usnet device (egress only)
	// cannot give.
	RxLoss float64
	Seed   uint64
}

// Port is a framedio.Port whose far side is a gVisor NIC. usnet's
// transmit (Write) injects each frame into gVisor's channel endpoint; the
// device's backend goroutine (Read) takes the frames gVisor transmits. The
// frames carry no offload metadata: gVisor computes and verifies every
// checksum, and usnet's device, lacking TxCsum and GSO, gets MTU-sized
// segments with finished checksums.
type Port struct {
	ep     *channel.Endpoint
	link   *ethernet.Endpoint
	info   framedio.Info
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	ctr    framedio.Counters
	// Lost counts the frames RxLoss dropped.
	Lost atomic.Uint64

	mu           sync.Mutex
	rxbuf, txbuf int

	// Reader only (one Read at a time, per the Port contract).
	rnd     *rand.Rand
	rxLoss  float64
	scratch []byte
}

// NewPort returns a port and, through LinkEndpoint, the gVisor side to
// hand to stack.CreateNIC.
func NewPort(c PortConfig) *Port {
	if c.MTU == 0 {
		c.MTU = 1500
	}
	if c.QueueLen == 0 {
		c.QueueLen = 4096
	}
	// The channel endpoint's MTU counts the Ethernet header; the
	// ethernet wrapper subtracts it again.
	ep := channel.New(c.QueueLen, uint32(c.MTU+14), tcpip.LinkAddress(c.MAC[:]))
	p := &Port{
		ep:    ep,
		link:  ethernet.New(ep),
		info:  framedio.Info{Kind: "gvisor", MaxFrame: c.MTU + 14, MTU: c.MTU},
		rxbuf: framedio.DefaultBuf, txbuf: framedio.DefaultBuf,
		rnd:    rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15)),
		rxLoss: c.RxLoss,
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// LinkEndpoint is the gVisor side of the link: an Ethernet endpoint, so
// gVisor resolves usnet's address with ARP as usnet resolves gVisor's.
func (p *Port) LinkEndpoint() stack.LinkEndpoint { return p.link }

// Info describes the port to framedio.NewDevice.
func (p *Port) Info() framedio.Info { return p.info }

// Read takes frames gVisor has transmitted. With Block it waits for the
// first one; then it takes what is queued, up to the frames fio holds.
func (p *Port) Read(fio *framedio.FrameIO, fc framedio.FlowControl) (int, error) {
	if err := fio.Check(); err != nil {
		return 0, err
	}
	if p.closed.Load() {
		return 0, framedio.ErrClosed
	}
	n := 0
	for n < fio.Frames() {
		var pkt *stack.PacketBuffer
		if n == 0 && fc == framedio.Block {
			if pkt = p.ep.ReadContext(p.ctx); pkt == nil {
				return 0, framedio.ErrClosed
			}
		} else if pkt = p.ep.Read(); pkt == nil {
			break
		}
		p.scratch = p.scratch[:0]
		for _, s := range pkt.AsSlices() {
			p.scratch = append(p.scratch, s...)
		}
		pkt.DecRef()
		if p.rxLoss > 0 && p.rnd.Float64() < p.rxLoss {
			p.Lost.Add(1)
			continue
		}
		if !fio.Scatter(n, p.scratch) {
			p.ctr.RxErrors.Add(1)
			continue
		}
		p.ctr.RxFrames.Add(1)
		p.ctr.RxBytes.Add(uint64(len(p.scratch)))
		n++
	}
	if n == 0 {
		return 0, framedio.ErrWouldBlock
	}
	return n, nil
}

// Write hands usnet's frames to gVisor. gVisor's inbound processing runs
// in the caller (the usnet executor) until it queues the segment for its
// own goroutines; its outbound queue never blocks, so neither does this.
func (p *Port) Write(fio *framedio.FrameIO, fc framedio.FlowControl) (int, error) {
	if err := fio.Check(); err != nil {
		return 0, err
	}
	for i := range fio.Frames() {
		if p.closed.Load() {
			return i, framedio.ErrClosed
		}
		data := fio.Gather(make([]byte, 0, fio.FrameLen(i)), i)
		if len(data) < 14 || len(data) > p.info.MaxFrame {
			p.ctr.TxErrors.Add(1)
			continue
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(data)})
		p.ep.InjectInbound(0, pkt)
		pkt.DecRef()
		p.ctr.TxFrames.Add(1)
		p.ctr.TxBytes.Add(uint64(len(data)))
	}
	return fio.Frames(), nil
}

// SetBufs records the sizes; the real bounds are gVisor's queue and
// usnet's NAPI backlog.
func (p *Port) SetBufs(rx, tx int) error {
	for _, n := range []int{rx, tx} {
		if n != 0 {
			if err := framedio.CheckBuf(n); err != nil {
				return err
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rx != 0 {
		p.rxbuf = rx
	}
	if tx != 0 {
		p.txbuf = tx
	}
	return nil
}

// Bufs returns the recorded sizes.
func (p *Port) Bufs() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rxbuf, p.txbuf
}

// Stats returns the port's counters.
func (p *Port) Stats() framedio.Stats { return p.ctr.Snapshot() }

// Close ends the port: a blocked Read returns ErrClosed and gVisor's
// further transmissions fail. Idempotent.
func (p *Port) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	p.cancel()
	p.ep.Close()
	return nil
}
