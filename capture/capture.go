// Package capture records the frames a device sends and receives into a
// pcapng file, with the device's name and each frame's direction, on the
// namespace clock (virtual time in simulation, so files repeat byte for
// byte). It is a tap on the device (Linux's packet socket).
//
// Checksums that an in-process link left unfinished (CsumPartial) are
// completed in the captured copy, so tshark sees valid packets; a GSO
// super-packet is written as one frame with a comment naming its segment
// size.
package capture

import (
	"fmt"
	"io"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/pcapng"
	"github.com/usnet/usnet/skb"
)

// Options tune a capture.
type Options struct {
	// Count stops the capture after that many frames (0: no limit).
	Count int
	// SnapLen truncates frames (0: 262144, tcpdump's default).
	SnapLen int
}

// Capture is a running capture of one device.
type Capture struct {
	dev     *netdev.Device
	w       *pcapng.Writer
	ifid    int
	remove  func()
	epoch   int64
	opts    Options
	scratch []byte
	frames  int
	err     error
	done    bool
	gsoSize uint16
	gsoText string
}

// Start begins capturing dev into out. Call it on dev's executor; the
// capture writes from the executor too.
func Start(dev *netdev.Device, out io.Writer, opts Options) (*Capture, error) {
	if opts.SnapLen <= 0 {
		opts.SnapLen = 262144
	}
	w, err := pcapng.NewWriter(out, pcapng.Options{UserAppl: "usnet"})
	if err != nil {
		return nil, err
	}
	ns := dev.Table().Net()
	id, err := w.AddInterface(pcapng.Interface{
		Name:        dev.Name(),
		Description: fmt.Sprintf("%s in namespace %s", dev.Name(), ns.Name()),
		LinkType:    linkType(dev),
		SnapLen:     uint32(opts.SnapLen),
	})
	if err != nil {
		return nil, err
	}
	c := &Capture{dev: dev, w: w, ifid: id, epoch: ns.Exec().Epoch().UnixNano(), opts: opts}
	c.remove = dev.Table().AddTap(dev, c.tap)
	return c, nil
}

func linkType(d *netdev.Device) uint16 {
	return 1 // LINKTYPE_ETHERNET: lo carries Ethernet headers too, as Linux's does
}

// Frames returns the number of frames written.
func (c *Capture) Frames() int { return c.frames }

// Done reports whether the capture reached its Count.
func (c *Capture) Done() bool { return c.done }

func (c *Capture) tap(d *netdev.Device, b *skb.Buf, dir netdev.Direction, now int64) {
	if c.done || c.err != nil {
		return
	}
	data := b.Bytes()
	if b.Csum == skb.CsumPartial && b.CsumStart >= b.Pos() {
		c.scratch = append(c.scratch[:0], data...)
		netdev.CompleteChecksum(c.scratch, int(b.CsumStart-b.Pos()), int(b.CsumOffset))
		data = c.scratch
	}
	orig := len(data)
	if len(data) > c.opts.SnapLen {
		data = data[:c.opts.SnapLen]
	}
	comment := ""
	if b.GSOSize > 0 && orig > int(b.GSOSize)+54 {
		comment = c.gsoComment(b.GSOSize)
	}
	pdir := pcapng.Inbound
	if dir == netdev.DirOut {
		pdir = pcapng.Outbound
	}
	c.err = c.w.WritePacket(c.ifid, c.epoch+now, data, orig, pdir, comment)
	c.frames++
	if c.opts.Count > 0 && c.frames >= c.opts.Count {
		c.done = true
		c.remove()
	}
}

// gsoComment names a super-packet's segment size; the last one is cached
// because it is written per packet.
func (c *Capture) gsoComment(size uint16) string {
	if size != c.gsoSize {
		c.gsoSize = size
		c.gsoText = fmt.Sprintf("usnet GSO super-packet: segment payload %d bytes, split on a real wire", size)
	}
	return c.gsoText
}

// Stop ends the capture and flushes the file. Call it on the executor.
func (c *Capture) Stop() error {
	if !c.done {
		c.remove()
		c.done = true
	}
	if err := c.w.Flush(); err != nil && c.err == nil {
		c.err = err
	}
	return c.err
}

// Flush writes out what the capture has buffered (for live readers).
// Call it on the executor.
func (c *Capture) Flush() error { return c.w.Flush() }
