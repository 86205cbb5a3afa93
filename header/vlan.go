package header

import "encoding/binary"

// VLANLen is the length of the part of an 802.1Q/802.1ad tag that follows
// its TPID: the TCI and the encapsulated EtherType (struct vlan_hdr).
const VLANLen = 4

// VLANMaxDepth is the most tags ParseFrame looks through, as Linux's
// __vlan_get_protocol (VLAN_MAX_DEPTH).
const VLANMaxDepth = 8

// TCI bit layout (include/linux/if_vlan.h).
const (
	vlanPCPShift = 13
	vlanDEIMask  = 0x1000
	vlanVIDMask  = 0x0fff
)

// VLAN is a view of a tag's TCI and encapsulated EtherType, as found right
// after a TPID of 0x8100 or 0x88a8.
type VLAN []byte

var errVLANShort = newErr("vlan: tag truncated", ErrTruncated)

// ParseVLAN checks that b holds a tag body and returns the view.
func ParseVLAN(b []byte) (VLAN, error) {
	if len(b) < VLANLen {
		return nil, errVLANShort
	}
	return VLAN(b), nil
}

// TCI returns the tag control information word.
func (v VLAN) TCI() uint16 { return binary.BigEndian.Uint16(v[0:2]) }

// PCP returns the priority code point (0-7).
func (v VLAN) PCP() uint8 { return uint8(v.TCI() >> vlanPCPShift) }

// DEI returns the drop eligible indicator (formerly CFI).
func (v VLAN) DEI() bool { return v.TCI()&vlanDEIMask != 0 }

// VID returns the VLAN identifier (0-4095).
func (v VLAN) VID() uint16 { return v.TCI() & vlanVIDMask }

// EtherType returns the encapsulated type.
func (v VLAN) EtherType() EtherType { return EtherType(binary.BigEndian.Uint16(v[2:4])) }

// Payload returns the bytes after the tag.
func (v VLAN) Payload() []byte { return v[VLANLen:] }

// SetTCI sets the tag control information word.
func (v VLAN) SetTCI(tci uint16) { binary.BigEndian.PutUint16(v[0:2], tci) }

// SetEtherType sets the encapsulated type.
func (v VLAN) SetEtherType(t EtherType) { binary.BigEndian.PutUint16(v[2:4], uint16(t)) }

// VLANTag is one decoded tag.
type VLANTag struct {
	TPID EtherType // EtherTypeVLAN or EtherTypeQinQ
	PCP  uint8     // 0-7
	DEI  bool
	VID  uint16 // 0-4095
}

// TCI encodes the tag control information word.
func (t VLANTag) TCI() uint16 {
	tci := uint16(t.PCP&7)<<vlanPCPShift | t.VID&vlanVIDMask
	if t.DEI {
		tci |= vlanDEIMask
	}
	return tci
}

func tagFromTCI(tpid EtherType, tci uint16) VLANTag {
	return VLANTag{TPID: tpid, PCP: uint8(tci >> vlanPCPShift), DEI: tci&vlanDEIMask != 0, VID: tci & vlanVIDMask}
}

// Frame is an Ethernet frame decoded through its VLAN tags.
type Frame struct {
	Dst, Src  MAC
	Tags      [VLANMaxDepth]VLANTag // outermost first
	NumTags   int
	Type      EtherType // the EtherType after the last tag
	HeaderLen int       // 14 + 4*NumTags
	Payload   []byte    // aliases the parsed buffer
}

var (
	errFrameDeep   = newErr("ethernet: more than 8 stacked VLAN tags", ErrBadField)
	errFrameBigTag = newErr("vlan: too many tags to build", ErrBadField)
	errFrameTPID   = newErr("vlan: tag TPID is not 0x8100 or 0x88a8", ErrBadField)
	errFrameType   = newErr("ethernet: inner type is a VLAN TPID", ErrBadField)
	errFrameTCI    = newErr("vlan: PCP > 7 or VID > 4095", ErrBadField)
)

// ParseFrame decodes b's Ethernet header and any stacked 802.1Q/802.1ad
// tags into f without allocating. f.Payload aliases b.
func ParseFrame(b []byte, f *Frame) error {
	e, err := ParseEthernet(b)
	if err != nil {
		return err
	}
	f.Dst, f.Src = e.Dst(), e.Src()
	f.NumTags = 0
	t := e.EtherType()
	off := EthernetLen
	for t.IsVLAN() {
		if f.NumTags == VLANMaxDepth {
			return errFrameDeep
		}
		v, err := ParseVLAN(b[off:])
		if err != nil {
			return err
		}
		f.Tags[f.NumTags] = tagFromTCI(t, v.TCI())
		f.NumTags++
		t = v.EtherType()
		off += VLANLen
	}
	f.Type = t
	f.HeaderLen = off
	f.Payload = b[off:]
	return nil
}

// Len returns the header length Build writes.
func (f *Frame) Len() int { return EthernetLen + VLANLen*f.NumTags }

// Build writes the Ethernet header and tags described by f into b (f's
// Payload and HeaderLen are ignored) and returns the header length.
func (f *Frame) Build(b []byte) (int, error) {
	if f.NumTags < 0 || f.NumTags > VLANMaxDepth {
		return 0, errFrameBigTag
	}
	if f.Type.IsVLAN() {
		return 0, errFrameType
	}
	n := f.Len()
	if len(b) < n {
		return 0, errEthShort
	}
	e := Ethernet(b)
	e.SetDst(f.Dst)
	e.SetSrc(f.Src)
	off := 12
	for _, t := range f.Tags[:f.NumTags] {
		if !t.TPID.IsVLAN() {
			return 0, errFrameTPID
		}
		if t.PCP > 7 || t.VID > vlanVIDMask {
			return 0, errFrameTCI
		}
		binary.BigEndian.PutUint16(b[off:], uint16(t.TPID))
		binary.BigEndian.PutUint16(b[off+2:], t.TCI())
		off += 4
	}
	binary.BigEndian.PutUint16(b[off:], uint16(f.Type))
	return n, nil
}
