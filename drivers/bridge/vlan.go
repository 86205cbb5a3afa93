package bridge

import (
	"encoding/binary"
	"syscall"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// vlanSet is the VLANs of a port or of the bridge itself (struct
// net_bridge_vlan_group): membership and untagged bitmaps and the PVID.
type vlanSet struct {
	member   [64]uint64
	untagged [64]uint64
	pvid     uint16
	n        int
}

func (s *vlanSet) has(vid uint16) bool { return s.member[vid/64]&(1<<(vid%64)) != 0 }
func (s *vlanSet) isUntagged(vid uint16) bool {
	return s.untagged[vid/64]&(1<<(vid%64)) != 0
}

func (s *vlanSet) add(vid uint16, pvid, untagged bool) {
	if !s.has(vid) {
		s.n++
	}
	s.member[vid/64] |= 1 << (vid % 64)
	if untagged {
		s.untagged[vid/64] |= 1 << (vid % 64)
	} else {
		s.untagged[vid/64] &^= 1 << (vid % 64)
	}
	if pvid {
		s.pvid = vid
	} else if s.pvid == vid {
		s.pvid = 0
	}
}

func (s *vlanSet) del(vid uint16) {
	if !s.has(vid) {
		return
	}
	s.n--
	s.member[vid/64] &^= 1 << (vid % 64)
	s.untagged[vid/64] &^= 1 << (vid % 64)
	if s.pvid == vid {
		s.pvid = 0
	}
}

// VlanInfo describes one VLAN of a port or of the bridge.
type VlanInfo struct {
	VID      uint16
	PVID     bool
	Untagged bool
}

func (s *vlanSet) list() []VlanInfo {
	out := make([]VlanInfo, 0, s.n)
	for vid := uint16(1); vid < 4095; vid++ {
		if s.has(vid) {
			out = append(out, VlanInfo{VID: vid, PVID: s.pvid == vid, Untagged: s.isUntagged(vid)})
		}
	}
	return out
}

// vlansOf returns the VLAN set of dev: a port's, or the bridge's own.
func (br *Bridge) vlansOf(dev *netdev.Device) (*vlanSet, *Port, error) {
	if dev == br.dev {
		return &br.vlans, nil, nil
	}
	p := br.Port(dev)
	if p == nil {
		return nil, nil, syscall.EINVAL
	}
	return &p.vlans, p, nil
}

// VlanAdd adds vid to dev (a port or the bridge itself), as `bridge vlan
// add`; its local FDB entry follows (nbp_vlan_add).
func (br *Bridge) VlanAdd(dev *netdev.Device, vid uint16, pvid, untagged bool) error {
	if vid == 0 || vid >= 4095 {
		return syscall.EINVAL
	}
	s, p, err := br.vlansOf(dev)
	if err != nil {
		return err
	}
	s.add(vid, pvid, untagged)
	br.fdb.insertLocal(br, p, dev.Addr(), vid)
	return nil
}

// VlanDel removes vid from dev; ENOENT when it is not there.
func (br *Bridge) VlanDel(dev *netdev.Device, vid uint16) error {
	s, p, err := br.vlansOf(dev)
	if err != nil {
		return err
	}
	if vid >= 4096 || !s.has(vid) {
		return syscall.ENOENT
	}
	s.del(vid)
	br.fdb.deleteLocal(br, p, dev.Addr(), vid)
	for _, e := range br.fdb.m {
		if e.port == p && e.key.vid == vid && !e.local && !e.user && p != nil {
			br.fdb.remove(br, e)
		}
	}
	return nil
}

// Vlans lists dev's VLANs in VID order.
func (br *Bridge) Vlans(dev *netdev.Device) []VlanInfo {
	s, _, err := br.vlansOf(dev)
	if err != nil {
		return nil
	}
	return s.list()
}

// VlanFiltering reports vlan_filtering; SetVlanFiltering switches it.
func (br *Bridge) VlanFiltering() bool { return br.vlanFiltering }
func (br *Bridge) SetVlanFiltering(on bool) {
	if on != br.vlanFiltering {
		br.vlanFiltering = on
		br.fdb.flush(br, nil, false)
	}
}

// VlanProtocol returns the TPID the bridge filters on (0x8100 or 0x88a8).
func (br *Bridge) VlanProtocol() uint16 { return br.vlanProto }
func (br *Bridge) SetVlanProtocol(p uint16) error {
	if p != 0x8100 && p != 0x88a8 {
		return syscall.EPROTONOSUPPORT
	}
	br.vlanProto = p
	return nil
}

// DefaultPVID returns default_pvid, given to new ports.
func (br *Bridge) DefaultPVID() uint16 { return br.defaultPVID }

// SetDefaultPVID changes default_pvid (0 disables it). Ports that still
// have the old default as untagged PVID move to the new one, as
// br_vlan_set_default_pvid does.
func (br *Bridge) SetDefaultPVID(vid uint16) error {
	if vid >= 4095 {
		return syscall.EINVAL
	}
	old := br.defaultPVID
	if old == vid {
		return nil
	}
	move := func(dev *netdev.Device, s *vlanSet) {
		if old != 0 && s.pvid == old && s.isUntagged(old) {
			_ = br.VlanDel(dev, old)
		}
		if vid != 0 && s.pvid == 0 && !s.has(vid) {
			_ = br.VlanAdd(dev, vid, true, true)
		}
	}
	move(br.dev, &br.vlans)
	for _, p := range br.ports {
		move(p.dev, &p.vlans)
	}
	br.defaultPVID = vid
	return nil
}

// ingressVlan classifies a frame arriving at s (br_allowed_ingress): the
// VLAN of its tag, or the PVID when untagged or priority-tagged. A tag is
// stripped so that the frame travels the bridge untagged; ok is false
// when the frame must be dropped.
func (br *Bridge) ingressVlan(s *vlanSet, b *skb.Buf) (vid uint16, ok bool) {
	if !br.vlanFiltering {
		return 0, true
	}
	data := b.Bytes()
	if binary.BigEndian.Uint16(data[12:14]) == br.vlanProto {
		if len(data) < 18 {
			return 0, false
		}
		vid = binary.BigEndian.Uint16(data[14:16]) & 0xfff
		if !stripTag(b) {
			return 0, false
		}
	}
	if vid == 0 {
		vid = s.pvid
		if vid == 0 {
			return 0, false
		}
	}
	return vid, s.has(vid)
}

// stripTag removes the 802.1Q tag after the addresses.
func stripTag(b *skb.Buf) bool {
	if b.Shared() && !b.Unshare() {
		return false
	}
	data := b.Bytes()
	copy(data[4:16], data[0:12])
	b.Pull(4)
	return true
}

// pushTag inserts a tag with TPID proto and VLAN vid after the addresses.
func pushTag(b *skb.Buf, proto, vid uint16) bool {
	if !b.Expand(4, 0) {
		return false
	}
	h := b.Push(4)
	copy(h[0:12], h[4:16])
	binary.BigEndian.PutUint16(h[12:14], proto)
	binary.BigEndian.PutUint16(h[14:16], vid)
	return true
}
