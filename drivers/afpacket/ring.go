package afpacket

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Block layout of TPACKET_V3 (struct tpacket_block_desc): version,
// offset_to_priv, then tpacket_hdr_v1, whose first fields are
// block_status, num_pkts, offset_to_first_pkt.
const (
	offBlockStatus = 8
	offNumPkts     = 12
	offFirstPkt    = 16
)

// struct tpacket3_hdr field offsets.
const (
	offNext    = 0
	offSnaplen = 12
	offLen     = 16
	offStatus  = 20
	offMac     = 24
	offVlanTCI = 32
	offTPID    = 36
)

// frameSize is the ring's nominal frame size. V3 packs frames of any
// size into blocks, but the kernel still checks the geometry against it.
const frameSize = 2048

// ring is the mmap'd TPACKET_V3 receive ring.
type ring struct {
	mem       []byte
	blockSize int
	blocks    int
}

// setup sizes and maps the ring: blocks of up to 128 KiB (enough for a
// 64 KiB GSO frame with its headers), as many as rxbuf holds, at least
// one. A tiny rxbuf gives one page-sized block.
func (r *ring) setup(fd, rxbuf int) error {
	bs := 1 << 17
	for bs > 4096 && bs*2 > rxbuf {
		bs >>= 1
	}
	r.blockSize = bs
	r.blocks = max(1, rxbuf/bs)
	req := &unix.TpacketReq3{
		Block_size: uint32(bs), Block_nr: uint32(r.blocks),
		Frame_size: frameSize, Frame_nr: uint32(bs / frameSize * r.blocks),
		// A partly filled block goes to user space after 1 ms, so a
		// lone ARP request does not wait for the block to fill.
		Retire_blk_tov: 1,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, req); err != nil {
		return fmt.Errorf("PACKET_RX_RING: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, bs*r.blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap ring: %w", err)
	}
	r.mem = mem
	return nil
}

func (r *ring) size() int { return r.blockSize * r.blocks }

// maxFrame is the largest frame one block can hold whole.
func (r *ring) maxFrame() int {
	return min(65535+14, r.blockSize-128)
}

func (r *ring) block(i int) []byte { return r.mem[i*r.blockSize : (i+1)*r.blockSize] }

// status reads a block's status word, which the kernel writes: an atomic
// load orders it before our reads of the block's frames (the ring's
// smp_rmb).
func (r *ring) status(b []byte) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[offBlockStatus])))
}

// release gives a block back to the kernel; the atomic store orders our
// reads before it (smp_wmb).
func (r *ring) release(b []byte) {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[offBlockStatus])), unix.TP_STATUS_KERNEL)
}

func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
