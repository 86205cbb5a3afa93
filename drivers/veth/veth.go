// Package veth is the virtual Ethernet pair (drivers/net/veth.c): what one
// end transmits, the other receives, possibly in another namespace. The
// carrier of each end follows the administrative state of both. Large
// segments (GSO) and unfinished checksums cross unsplit and untouched, as
// between two in-process stacks they can.
package veth

import (
	"cmp"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// End describes one end of a pair to create.
type End struct {
	Table *netdev.Table
	Name  string // may be a %d template
	// Ifindex to use, 0 for the next free one.
	Ifindex int
	// Addr, if non-zero, is the MAC; otherwise a random one.
	Addr [6]byte
	MTU  int // 0: 1500
	// TxQueues and RxQueues are the reported queue counts; 0 means
	// DefaultQueues.
	TxQueues, RxQueues int
}

// DefaultQueues is veth_get_num_queues: one queue per possible CPU,
// at most netdev.MaxQueues. The count is only reported (the data path
// has no per-CPU queues), so it follows the machine as Linux's does.
func DefaultQueues() int { return min(runtime.NumCPU(), netdev.MaxQueues) }

// end is the driver state of one device of the pair. peer and up are read
// by the other end's executor, so they are atomics; everything else is
// touched on the owner only.
type end struct {
	dev  *netdev.Device
	napi *netdev.NAPI
	peer atomic.Pointer[end]
	up   atomic.Bool
}

// Create makes a veth pair, as `ip link add A type veth peer name B
// [netns N]`. It runs on both tables' executors through Do, so it must be
// called from outside any executor (with the configuration lock held).
func Create(a, b End) (*netdev.Device, *netdev.Device, error) {
	if a.Table == nil || b.Table == nil {
		return nil, nil, fmt.Errorf("veth: both ends need a namespace: %w", syscall.EINVAL)
	}
	ea, eb := &end{}, &end{}
	var err error
	a.Table.Net().Exec().Do(func() { ea.dev, err = register(a, ea) })
	if err != nil {
		return nil, nil, err
	}
	b.Table.Net().Exec().Do(func() { eb.dev, err = register(b, eb) })
	if err != nil {
		a.Table.Net().Exec().Do(func() { a.Table.Unregister(ea.dev) })
		return nil, nil, err
	}
	ea.peer.Store(eb)
	eb.peer.Store(ea)
	var netA, netB any
	if a.Table != b.Table {
		netA, netB = b.Table.Net(), a.Table.Net()
	}
	// veth_newlink turns both carriers off once registered, and the
	// linkwatch runs that follow give each end the state it shows when
	// it comes up before its peer (LOWERLAYERDOWN next to its peer).
	b.Table.Net().Exec().Do(func() {
		eb.dev.SetLink(ea.dev.Ifindex(), netB)
		eb.dev.FireLinkwatch()
	})
	a.Table.Net().Exec().Do(func() {
		ea.dev.SetLink(eb.dev.Ifindex(), netA)
		ea.dev.FireLinkwatch()
	})
	return ea.dev, eb.dev, nil
}

func register(c End, e *end) (*netdev.Device, error) {
	t := c.Table
	if c.MTU == 0 {
		c.MTU = 1500
	}
	if c.Addr == ([6]byte{}) {
		c.Addr = netdev.RandomMAC(t.Net().Exec().Rand())
	}
	d, err := t.Register(netdev.Config{
		Name: c.Name, MTU: c.MTU, MinMTU: 68, MaxMTU: 65535,
		Addr: c.Addr, Broadcast: netdev.BroadcastMAC,
		Type: netdev.ARPHRDEther, Flags: netdev.FlagBroadcast | netdev.FlagMulticast,
		TxQueueLen: 1000, ManagesCarrier: true,
		NumTxQueues: cmp.Or(c.TxQueues, DefaultQueues()), NumRxQueues: cmp.Or(c.RxQueues, DefaultQueues()),
		Features: netdev.Features{RxCsumTrusted: true, TxCsum: true, GSOMaxSize: 65536, GSOMaxSegs: 65535},
	}, e, c.Ifindex)
	if err != nil {
		return nil, err
	}
	e.dev = d
	e.napi = netdev.NewNAPI(d)
	return d, nil
}

// Peer returns the other end of a veth device, or nil.
func Peer(d *netdev.Device) *netdev.Device {
	e, ok := d.Driver().(*end)
	if !ok {
		return nil
	}
	if p := e.peer.Load(); p != nil {
		return p.dev
	}
	return nil
}

// Unpair detaches the two ends of d's pair from each other and returns
// the peer (nil if none), as veth_dellink clears both peer pointers
// before it queues both ends for unregistration: the caller then
// unregisters each end itself, the peer on its own executor, so that
// the peer's RTM_DELLINK can be attributed to the deleting request.
// Unregistering an unpaired end no longer takes the other with it.
func Unpair(d *netdev.Device) *netdev.Device {
	e, ok := d.Driver().(*end)
	if !ok {
		return nil
	}
	p := e.peer.Swap(nil)
	if p == nil {
		return nil
	}
	p.peer.Store(nil)
	return p.dev
}

func (*end) Kind() string { return "veth" }

// Open raises the carrier of both ends if the peer is up (veth_open):
// at once, so the RTM_NEWLINK of the request shows LOWER_UP, with the
// operational state and RUNNING following in a linkwatch run, this end
// first. A peer in another namespace is changed on its own executor.
func (e *end) Open(d *netdev.Device) error {
	e.up.Store(true)
	if p := e.peer.Load(); p != nil && p.up.Load() {
		d.SetCarrierLinkwatch(true)
		e.peerCarrier(d, p, true)
	}
	return nil
}

// Stop drops the carrier of both ends (veth_close); linkwatch then
// announces the peer if it is up.
func (e *end) Stop(d *netdev.Device) {
	e.up.Store(false)
	d.SetCarrierLinkwatch(false)
	if p := e.peer.Load(); p != nil {
		e.peerCarrier(d, p, false)
	}
}

// peerCarrier sets the carrier of the peer p of d: directly when both
// share a namespace (one executor), else posted to p's executor.
func (e *end) peerCarrier(d *netdev.Device, p *end, on bool) {
	if p.dev.Table() == d.Table() {
		p.dev.SetCarrierLinkwatch(on)
		return
	}
	p.dev.Table().Net().Exec().Post(func() { p.setCarrier(on) })
}

// setCarrier runs on e's executor and re-checks the state, since the post
// may arrive after later changes.
func (e *end) setCarrier(on bool) {
	p := e.peer.Load()
	if on && (!e.up.Load() || p == nil || !p.up.Load()) {
		return
	}
	e.dev.SetCarrierLinkwatch(on)
}

// Uninit deletes the peer too, as deleting either end of a veth pair does.
func (e *end) Uninit(d *netdev.Device) {
	e.up.Store(false)
	e.napi.Purge()
	p := e.peer.Swap(nil)
	if p == nil {
		return
	}
	p.peer.Store(nil)
	pt := p.dev.Table()
	// The survivor has no peer any more (veth_dellink clears both ends
	// first): its RTM_DELLINK names no link and no link namespace.
	pt.Net().Exec().Post(func() {
		p.dev.SetLink(0, nil)
		pt.Unregister(p.dev)
	})
}

// MovedNetns re-homes the receive poll on the new namespace's executor and
// tells the peer where this end now is (IFLA_LINK_NETNSID).
func (e *end) MovedNetns(d *netdev.Device) {
	e.napi.Rebind()
	p := e.peer.Load()
	if p == nil {
		return
	}
	var netD, netP any
	if d.Table() != p.dev.Table() {
		netD, netP = p.dev.Table().Net(), d.Table().Net()
	}
	d.SetLink(p.dev.Ifindex(), netD)
	idx := d.Ifindex()
	p.dev.Table().Net().Exec().Post(func() { p.dev.SetLink(idx, netP) })
}

// Xmit hands the frames to the peer's receive queue (veth_xmit). A
// CsumPartial checksum stays unfinished: the receiver trusts it, as Linux's
// veth passes CHECKSUM_PARTIAL through. Crossing
// into another namespace scrubs the metadata that must not leak
// (skb_scrub_packet): mark, priority, hash.
func (e *end) Xmit(d *netdev.Device, bt *skb.Batch) {
	p := e.peer.Load()
	if p == nil || !p.up.Load() {
		d.Stats.TxDropped += uint64(bt.Len())
		bt.Free()
		return
	}
	xnet := p.dev.Table() != d.Table()
	for _, b := range bt.Bufs() {
		b.PktType = skb.PacketHost
		if xnet {
			b.Mark, b.Priority, b.Hash = 0, 0, 0
		}
	}
	d.Stats.TxDropped += uint64(p.napi.Enqueue(bt))
}
