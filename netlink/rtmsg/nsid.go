package rtmsg

import (
	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// sizeofRtgenmsg is struct rtgenmsg (one byte) padded by NLMSG_ALIGN.
const sizeofRtgenmsg = 4

// Nsid is an RTM_NEWNSID / DELNSID / GETNSID payload: struct rtgenmsg and
// the NETNSA_* attributes (include/uapi/linux/net_namespace.h). NSID,
// TargetNSID and CurrentNSID are s32 (NETNSA_NSID_NOT_ASSIGNED is -1),
// PID and FD u32. An attribute is encoded when it is marked in Attrs or,
// for PID and FD, non-zero: 0 is a valid nsid.
type Nsid struct {
	Family      uint8
	NSID        int32  // NETNSA_NSID
	PID         uint32 // NETNSA_PID (request only)
	FD          uint32 // NETNSA_FD (request only)
	TargetNSID  int32  // NETNSA_TARGET_NSID (request only)
	CurrentNSID int32  // NETNSA_CURRENT_NSID (answers to target-nsid requests)

	Attrs   AttrSet
	Unknown []RawAttr
}

// UnmarshalBinary decodes an rtgenmsg payload; the lone family byte of a
// request without attributes is accepted unpadded.
func (n *Nsid) UnmarshalBinary(b []byte) error {
	if len(b) < 1 {
		return ErrTruncated
	}
	*n = Nsid{Family: b[0]}
	if len(b) <= sizeofRtgenmsg {
		return nil
	}
	d := netlink.NewAttributeDecoder(b[sizeofRtgenmsg:])
	for d.Next() {
		t := d.Type()
		var err error
		switch t {
		case unix.NETNSA_NSID:
			n.NSID, err = getS32(&d)
		case unix.NETNSA_PID:
			n.PID, err = getU32(&d)
		case unix.NETNSA_FD:
			n.FD, err = getU32(&d)
		case unix.NETNSA_TARGET_NSID:
			n.TargetNSID, err = getS32(&d)
		case unix.NETNSA_CURRENT_NSID:
			n.CurrentNSID, err = getS32(&d)
		default:
			n.Unknown = append(n.Unknown, raw(&d))
			continue
		}
		if err != nil {
			return err
		}
		n.Attrs.Set(t)
	}
	return d.Err()
}

// Encode appends the rtgenmsg and the attributes in type order, which is
// rtnl_net_fill's (NSID, then CURRENT_NSID).
func (n *Nsid) Encode(e *netlink.AttributeEncoder) {
	e.Append([]byte{n.Family})
	s := &n.Attrs
	if s.Has(unix.NETNSA_NSID) {
		e.Int32(unix.NETNSA_NSID, n.NSID)
	}
	putU32(e, s, unix.NETNSA_PID, n.PID)
	putU32(e, s, unix.NETNSA_FD, n.FD)
	if s.Has(unix.NETNSA_TARGET_NSID) {
		e.Int32(unix.NETNSA_TARGET_NSID, n.TargetNSID)
	}
	if s.Has(unix.NETNSA_CURRENT_NSID) {
		e.Int32(unix.NETNSA_CURRENT_NSID, n.CurrentNSID)
	}
	encodeUnknown(e, n.Unknown)
}

// MarshalBinary encodes the payload into a new slice.
func (n *Nsid) MarshalBinary() ([]byte, error) { return marshal(n.Encode) }

// AppendBinary appends the payload to b.
func (n *Nsid) AppendBinary(b []byte) ([]byte, error) { return appendTo(b, n.Encode) }
