package framedio

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/usnet/usnet/offload"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// rxBatch is how many frames the backend asks its port for per call:
// one NAPI poll's worth.
const rxBatch = netdev.NAPIWeight

// driver bridges a Port into a netdev.Device. The backend goroutine
// (rxLoop) owns the receive side; the executor owns everything else. They
// share only the NAPI queue, the atomics below and the Port, whose Read
// and Write may run concurrently.
type driver struct {
	port Port
	info Info
	dev  *netdev.Device
	napi *netdev.NAPI
	pool *skb.Pool

	home    atomic.Pointer[home] // where to kick the fold timer
	rxDrops atomic.Uint64        // NAPI overflow, not yet folded into Stats
	lost    atomic.Bool          // the port failed or its peer closed
	done    chan struct{}        // closed when rxLoop has returned

	// Executor only.
	txio   FrameIO
	seen   Stats // port counters already folded into dev.Stats
	opened bool
}

// home is the executor the device lives on, with the timer that folds the
// backend's counters into the device statistics there.
type home struct {
	exec executor.Executor
	fold *executor.Timer
}

// NewDevice registers a usnet Ethernet device called name (a %d template
// is allowed) in t, backed by port; the device owns the port from now on
// and closes it when unregistered. Call it from outside any executor.
func NewDevice(t *netdev.Table, name string, port Port) (*netdev.Device, error) {
	return NewDeviceConfig(t, name, port, DeviceConfig{})
}

// DeviceConfig tunes a device beyond what its port describes.
type DeviceConfig struct {
	// Backlog bounds the device's NAPI queue in frames (its
	// netdev_max_backlog); 0 means netdev.DefaultBacklog.
	Backlog int
}

// NewDeviceConfig is NewDevice with a DeviceConfig.
func NewDeviceConfig(t *netdev.Table, name string, port Port, c DeviceConfig) (*netdev.Device, error) {
	if t == nil || port == nil {
		return nil, fmt.Errorf("framedio: table and port required: %w", syscall.EINVAL)
	}
	dr := &driver{port: port, info: port.Info(), pool: t.Pool(), done: make(chan struct{})}
	if dr.info.MaxFrame < 64 || dr.info.MaxFrame > skb.MaxSize-skb.DefaultHeadroom {
		return nil, fmt.Errorf("framedio: max frame %d: %w", dr.info.MaxFrame, syscall.EINVAL)
	}
	if dr.info.Kind == "" {
		dr.info.Kind = "framedio"
	}
	var (
		d   *netdev.Device
		err error
	)
	t.Net().Exec().Do(func() {
		addr := dr.info.Addr
		if addr == ([6]byte{}) {
			addr = netdev.RandomMAC(t.Net().Exec().Rand())
		}
		maxMTU := max(68, dr.info.MaxFrame-14)
		mtu := dr.info.MTU
		if mtu == 0 || mtu > maxMTU {
			mtu = min(1500, maxMTU)
		}
		// GRO as a NIC driver does it: segments from the host arrive
		// MTU-sized, the stack takes them coalesced.
		f := netdev.Features{GRO: true}
		if dr.info.Offload {
			f = netdev.Features{TxCsum: true, GSOMaxSize: dr.info.MaxFrame - 14, GSOMaxSegs: 65535, GRO: true}
		}
		d, err = t.Register(netdev.Config{
			Name: name, MTU: mtu, MinMTU: 68, MaxMTU: maxMTU,
			Addr: addr, Broadcast: netdev.BroadcastMAC,
			Type: netdev.ARPHRDEther, Flags: netdev.FlagBroadcast | netdev.FlagMulticast,
			TxQueueLen: 1000, ManagesCarrier: true, Features: f,
		}, dr, 0)
		if err != nil {
			return
		}
		dr.dev = d
		dr.napi = netdev.NewNAPI(d)
		dr.napi.GRO = &offload.GRO{Framing: offload.Ethernet}
		if c.Backlog > 0 {
			dr.napi.Limit = c.Backlog
		}
		dr.rehome()
		go dr.rxLoop()
	})
	if err != nil {
		port.Close()
		return nil, err
	}
	return d, nil
}

// PortOf returns the Port behind a framedio-backed device (including the
// tap and afpacket kinds), or nil.
func PortOf(d *netdev.Device) Port {
	if dr, ok := d.Driver().(*driver); ok {
		return dr.port
	}
	return nil
}

func (dr *driver) rehome() {
	h := &home{exec: dr.dev.Table().Net().Exec()}
	h.fold = h.exec.NewTimer(dr.fold)
	if old := dr.home.Swap(h); old != nil {
		old.fold.Stop()
	}
}

func (dr *driver) Kind() string { return dr.info.Kind }

// Open raises the carrier unless the port is gone, as a NIC driver whose
// link is there when it opens (netif_carrier_on): the request's
// RTM_NEWLINK shows LOWER_UP and the state it had, linkwatch then UP.
// The device is the guest's side of the host interface; the host's TAP
// has its own carrier, on while usnet holds its file (tun_attach).
func (dr *driver) Open(d *netdev.Device) error {
	dr.opened = true
	d.SetCarrierLinkwatch(!dr.lost.Load())
	return nil
}

// Stop drops the carrier (netif_carrier_off in the driver's ndo_stop);
// linkwatch records the state the device keeps while down.
func (dr *driver) Stop(d *netdev.Device) {
	dr.opened = false
	d.SetCarrierLinkwatch(false)
}

// Uninit closes the port, which ends the backend goroutine, waits for it
// and frees what is still queued.
func (dr *driver) Uninit(d *netdev.Device) {
	dr.port.Close()
	<-dr.done
	dr.napi.Purge()
	if h := dr.home.Load(); h != nil {
		h.fold.Stop()
	}
}

// MovedNetns re-homes the receive poll and the fold timer.
func (dr *driver) MovedNetns(d *netdev.Device) {
	dr.napi.Rebind()
	dr.rehome()
}

// fold runs on the executor: it moves the backend's and the port's drop
// and error counts into the device statistics, and drops the carrier when
// the port has failed.
func (dr *driver) fold() {
	d := dr.dev
	d.Stats.RxDropped += dr.rxDrops.Swap(0)
	s := dr.port.Stats()
	// Frames the host side lost before usnet could read them: missed,
	// like a NIC's FIFO overruns (rx_missed_errors).
	d.Stats.RxMissedErrors += s.RxDrops - dr.seen.RxDrops
	d.Stats.RxErrors += s.RxErrors - dr.seen.RxErrors
	d.Stats.RxLengthErrors += s.RxErrors - dr.seen.RxErrors
	d.Stats.TxDropped += s.TxDrops - dr.seen.TxDrops
	d.Stats.TxErrors += s.TxErrors - dr.seen.TxErrors
	dr.seen = s
	if dr.lost.Load() {
		d.SetCarrierLinkwatch(false) // a link loss, announced by linkwatch
	}
}

// kick schedules fold on the device's executor (allocation-free).
func (dr *driver) kick() {
	if h := dr.home.Load(); h != nil {
		h.exec.Kick(h.fold)
	}
}

// Xmit writes the batch to the port without blocking: what the port's
// txbuf cannot take now is dropped and counted in tx_dropped (the port
// counts the flow-control event). Checksums and large segments the port
// cannot carry are finished or dropped here.
func (dr *driver) Xmit(d *netdev.Device, bt *skb.Batch) {
	fio := &dr.txio
	fio.VecsPerFrame = 1
	fio.Vecs = fio.Vecs[:0]
	fio.Meta = fio.Meta[:0]
	for _, b := range bt.Bufs() {
		m, ok := dr.txMeta(b)
		if !ok {
			d.Stats.TxDropped++
			continue
		}
		fio.Vecs = append(fio.Vecs, Vec{Buf: b.Bytes(), Len: b.Len()})
		fio.Meta = append(fio.Meta, m)
	}
	if !dr.info.Offload {
		fio.Meta = nil
	}
	if len(fio.Vecs) > 0 {
		n, err := dr.port.Write(fio, NonBlock)
		d.Stats.TxDropped += uint64(len(fio.Vecs) - n)
		if err != nil && !errors.Is(err, ErrWouldBlock) {
			dr.lost.Store(true)
		}
	}
	clear(fio.Vecs)
	bt.Free()
	dr.fold()
}

// txMeta prepares b for the port and returns its offload Meta; false
// means b cannot be sent (a large segment for a port without GSO, or
// offsets outside the frame).
func (dr *driver) txMeta(b *skb.Buf) (Meta, bool) {
	var m Meta
	if b.GSOSize > 0 && !dr.info.Offload {
		return m, false
	}
	if b.Csum != skb.CsumPartial {
		return m, b.GSOSize == 0
	}
	start := int(b.CsumStart - b.Pos())
	if start < 0 || start+int(b.CsumOffset)+2 > b.Len() || start > 0xffff {
		return m, false
	}
	if !dr.info.Offload {
		// The far side needs real checksums (skb_checksum_help). The
		// bytes may be shared with a clone (a capture): copy first.
		if !b.Unshare() {
			return m, false
		}
		netdev.CompleteChecksum(b.Bytes(), start, int(b.CsumOffset))
		return m, true
	}
	m.Flags = MetaNeedsCsum
	m.CsumStart, m.CsumOffset = uint16(start), uint16(b.CsumOffset)
	if b.GSOSize > 0 {
		hl, ok := headerLen(b.Bytes(), start, b.GSOType)
		if !ok {
			return m, false
		}
		m.GSOType, m.GSOSize, m.HdrLen = b.GSOType, b.GSOSize, uint16(hl)
	}
	return m, true
}

// headerLen returns the length of the headers in front of a large
// segment's payload (virtio hdr_len): up to the end of the TCP or UDP
// header that starts at l4.
func headerLen(frame []byte, l4 int, gsoType uint8) (int, bool) {
	switch gsoType {
	case skb.GSOTCPv4, skb.GSOTCPv6:
		if l4+20 > len(frame) {
			return 0, false
		}
		n := l4 + int(frame[l4+12]>>4)*4
		return n, n >= l4+20 && n <= len(frame)
	case skb.GSOUDP:
		return l4 + 8, l4+8 <= len(frame)
	}
	return 0, false
}

// ApplyMeta records a received frame's offload state in b (whose data
// starts with the frame). Offsets outside the frame are ignored, so a
// bad header from outside can only cost a checksum verification.
func ApplyMeta(b *skb.Buf, m Meta) {
	switch {
	case m.Flags&MetaNeedsCsum != 0:
		if int(m.CsumStart)+int(m.CsumOffset)+2 > b.Len() {
			return
		}
		b.Csum = skb.CsumPartial
		b.CsumStart = b.Pos() + int32(m.CsumStart)
		b.CsumOffset = int16(m.CsumOffset)
	case m.Flags&MetaDataValid != 0:
		b.Csum = skb.CsumUnnecessary
	}
	if m.GSOSize > 0 && m.GSOType != skb.GSONone && b.Csum == skb.CsumPartial {
		b.GSOSize, b.GSOType = m.GSOSize, m.GSOType
	}
}
