package rtmsg

import (
	"encoding/binary"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// Link attributes x/sys/unix does not name.
const (
	iflaStats = 7 // IFLA_STATS: struct rtnl_link_stats
)

// Link is an RTM_NEWLINK / DELLINK / GETLINK / SETLINK payload: struct
// ifinfomsg and the IFLA_* attributes usnet models.
type Link struct {
	Family uint8  // ifi_family (AF_UNSPEC)
	Type   uint16 // ifi_type (ARPHRD_*)
	Index  int32  // ifi_index
	Flags  uint32 // ifi_flags (IFF_*)
	Change uint32 // ifi_change

	Name           string // IFLA_IFNAME
	TxQLen         uint32 // IFLA_TXQLEN
	OperState      uint8  // IFLA_OPERSTATE (IF_OPER_*)
	LinkMode       uint8  // IFLA_LINKMODE
	MTU            uint32 // IFLA_MTU
	MinMTU         uint32 // IFLA_MIN_MTU
	MaxMTU         uint32 // IFLA_MAX_MTU
	Group          uint32 // IFLA_GROUP
	Promiscuity    uint32 // IFLA_PROMISCUITY
	AllMulti       uint32 // IFLA_ALLMULTI
	NumTxQueues    uint32 // IFLA_NUM_TX_QUEUES
	GSOMaxSegs     uint32 // IFLA_GSO_MAX_SEGS
	GSOMaxSize     uint32 // IFLA_GSO_MAX_SIZE
	GROMaxSize     uint32 // IFLA_GRO_MAX_SIZE
	NumRxQueues    uint32 // IFLA_NUM_RX_QUEUES
	Carrier        uint8  // IFLA_CARRIER
	CarrierChanges uint32 // IFLA_CARRIER_CHANGES
	Address        []byte // IFLA_ADDRESS (hardware address)
	Broadcast      []byte // IFLA_BROADCAST
	Stats64        *LinkStats64
	Stats          *LinkStats
	Info           *LinkInfo // IFLA_LINKINFO
	Master         uint32    // IFLA_MASTER
	Link           uint32    // IFLA_LINK
	LinkNetNSID    int32     // IFLA_LINK_NETNSID
	NetNSPid       uint32    // IFLA_NET_NS_PID (request only)
	NetNSFD        uint32    // IFLA_NET_NS_FD (request only)
	Qdisc          string    // IFLA_QDISC
	Alias          string    // IFLA_IFALIAS
	AFSpec         []byte    // IFLA_AF_SPEC, raw nested payload

	Attrs   AttrSet
	Unknown []RawAttr
}

// LinkInfo is IFLA_LINKINFO: the link kind and its kind-specific data.
type LinkInfo struct {
	Kind      string // IFLA_INFO_KIND
	Data      []byte // IFLA_INFO_DATA, raw nested payload
	SlaveKind string // IFLA_INFO_SLAVE_KIND
	SlaveData []byte // IFLA_INFO_SLAVE_DATA, raw
}

// UnmarshalBinary decodes an ifinfomsg payload.
func (l *Link) UnmarshalBinary(b []byte) error {
	if len(b) < unix.SizeofIfInfomsg {
		return ErrTruncated
	}
	ne := binary.NativeEndian
	*l = Link{
		Family: b[0], Type: ne.Uint16(b[2:]), Index: int32(ne.Uint32(b[4:])),
		Flags: ne.Uint32(b[8:]), Change: ne.Uint32(b[12:]),
	}
	d := netlink.NewAttributeDecoder(b[unix.SizeofIfInfomsg:])
	return l.decodeAttrs(&d)
}

func (l *Link) decodeAttrs(d *netlink.AttributeDecoder) error {
	for d.Next() {
		var err error
		t := d.Type()
		switch t {
		case unix.IFLA_IFNAME:
			l.Name = d.String()
		case unix.IFLA_TXQLEN:
			l.TxQLen, err = getU32(d)
		case unix.IFLA_OPERSTATE:
			l.OperState, err = getU8(d)
		case unix.IFLA_LINKMODE:
			l.LinkMode, err = getU8(d)
		case unix.IFLA_MTU:
			l.MTU, err = getU32(d)
		case unix.IFLA_MIN_MTU:
			l.MinMTU, err = getU32(d)
		case unix.IFLA_MAX_MTU:
			l.MaxMTU, err = getU32(d)
		case unix.IFLA_GROUP:
			l.Group, err = getU32(d)
		case unix.IFLA_PROMISCUITY:
			l.Promiscuity, err = getU32(d)
		case unix.IFLA_ALLMULTI:
			l.AllMulti, err = getU32(d)
		case unix.IFLA_NUM_TX_QUEUES:
			l.NumTxQueues, err = getU32(d)
		case unix.IFLA_GSO_MAX_SEGS:
			l.GSOMaxSegs, err = getU32(d)
		case unix.IFLA_GSO_MAX_SIZE:
			l.GSOMaxSize, err = getU32(d)
		case unix.IFLA_GRO_MAX_SIZE:
			l.GROMaxSize, err = getU32(d)
		case unix.IFLA_NUM_RX_QUEUES:
			l.NumRxQueues, err = getU32(d)
		case unix.IFLA_CARRIER:
			l.Carrier, err = getU8(d)
		case unix.IFLA_CARRIER_CHANGES:
			l.CarrierChanges, err = getU32(d)
		case unix.IFLA_ADDRESS:
			l.Address = clone(d.Bytes())
		case unix.IFLA_BROADCAST:
			l.Broadcast = clone(d.Bytes())
		case unix.IFLA_STATS64:
			l.Stats64 = new(LinkStats64)
			err = l.Stats64.decode(d)
		case iflaStats:
			l.Stats = new(LinkStats)
			err = l.Stats.decode(d)
		case unix.IFLA_LINKINFO:
			l.Info = new(LinkInfo)
			err = l.Info.decode(d)
		case unix.IFLA_MASTER:
			l.Master, err = getU32(d)
		case unix.IFLA_LINK:
			l.Link, err = getU32(d)
		case unix.IFLA_LINK_NETNSID:
			l.LinkNetNSID, err = getS32(d)
		case unix.IFLA_NET_NS_PID:
			l.NetNSPid, err = getU32(d)
		case unix.IFLA_NET_NS_FD:
			l.NetNSFD, err = getU32(d)
		case unix.IFLA_QDISC:
			l.Qdisc = d.String()
		case unix.IFLA_IFALIAS:
			l.Alias = d.String()
		case unix.IFLA_AF_SPEC:
			l.AFSpec = clone(d.Bytes())
		default:
			l.Unknown = append(l.Unknown, raw(d))
			continue
		}
		if err != nil {
			return err
		}
		l.Attrs.Set(t)
	}
	return d.Err()
}

func (li *LinkInfo) decode(d *netlink.AttributeDecoder) error {
	n, err := d.Nested()
	if err != nil {
		return err
	}
	for n.Next() {
		switch n.Type() {
		case unix.IFLA_INFO_KIND:
			li.Kind = n.String()
		case unix.IFLA_INFO_DATA:
			li.Data = clone(n.Bytes())
		case unix.IFLA_INFO_SLAVE_KIND:
			li.SlaveKind = n.String()
		case unix.IFLA_INFO_SLAVE_DATA:
			li.SlaveData = clone(n.Bytes())
		}
	}
	return n.Err()
}

// Encode appends the ifinfomsg and attributes in rtnl_fill_ifinfo order.
func (l *Link) Encode(e *netlink.AttributeEncoder) {
	var h [unix.SizeofIfInfomsg]byte
	ne := binary.NativeEndian
	h[0] = l.Family
	ne.PutUint16(h[2:], l.Type)
	ne.PutUint32(h[4:], uint32(l.Index))
	ne.PutUint32(h[8:], l.Flags)
	ne.PutUint32(h[12:], l.Change)
	e.Append(h[:])
	s := &l.Attrs
	putString(e, s, unix.IFLA_IFNAME, l.Name)
	putU32(e, s, unix.IFLA_TXQLEN, l.TxQLen)
	putU8(e, s, unix.IFLA_OPERSTATE, l.OperState)
	putU8(e, s, unix.IFLA_LINKMODE, l.LinkMode)
	putU32(e, s, unix.IFLA_MTU, l.MTU)
	putU32(e, s, unix.IFLA_MIN_MTU, l.MinMTU)
	putU32(e, s, unix.IFLA_MAX_MTU, l.MaxMTU)
	putU32(e, s, unix.IFLA_GROUP, l.Group)
	putU32(e, s, unix.IFLA_PROMISCUITY, l.Promiscuity)
	putU32(e, s, unix.IFLA_ALLMULTI, l.AllMulti)
	putU32(e, s, unix.IFLA_NUM_TX_QUEUES, l.NumTxQueues)
	putU32(e, s, unix.IFLA_GSO_MAX_SEGS, l.GSOMaxSegs)
	putU32(e, s, unix.IFLA_GSO_MAX_SIZE, l.GSOMaxSize)
	putU32(e, s, unix.IFLA_GRO_MAX_SIZE, l.GROMaxSize)
	putU32(e, s, unix.IFLA_NUM_RX_QUEUES, l.NumRxQueues)
	putU8(e, s, unix.IFLA_CARRIER, l.Carrier)
	putU32(e, s, unix.IFLA_CARRIER_CHANGES, l.CarrierChanges)
	putU32(e, s, unix.IFLA_NET_NS_PID, l.NetNSPid)
	putU32(e, s, unix.IFLA_NET_NS_FD, l.NetNSFD)
	putBytes(e, s, unix.IFLA_ADDRESS, l.Address)
	putBytes(e, s, unix.IFLA_BROADCAST, l.Broadcast)
	if l.Stats64 != nil {
		l.Stats64.encode(e)
	}
	if l.Stats != nil {
		l.Stats.encode(e)
	}
	if l.Info != nil {
		l.Info.encode(e)
	}
	putU32(e, s, unix.IFLA_MASTER, l.Master)
	putU32(e, s, unix.IFLA_LINK, l.Link)
	if l.LinkNetNSID != 0 || s.Has(unix.IFLA_LINK_NETNSID) {
		e.Int32(unix.IFLA_LINK_NETNSID, l.LinkNetNSID)
	}
	putString(e, s, unix.IFLA_QDISC, l.Qdisc)
	putString(e, s, unix.IFLA_IFALIAS, l.Alias)
	putBytes(e, s, unix.IFLA_AF_SPEC, l.AFSpec)
	encodeUnknown(e, l.Unknown)
}

func (li *LinkInfo) encode(e *netlink.AttributeEncoder) {
	n := e.BeginNest(unix.IFLA_LINKINFO)
	if li.Kind != "" {
		e.String(unix.IFLA_INFO_KIND, li.Kind)
	}
	if li.Data != nil {
		e.PutBytes(unix.IFLA_INFO_DATA, li.Data)
	}
	if li.SlaveKind != "" {
		e.String(unix.IFLA_INFO_SLAVE_KIND, li.SlaveKind)
	}
	if li.SlaveData != nil {
		e.PutBytes(unix.IFLA_INFO_SLAVE_DATA, li.SlaveData)
	}
	e.EndNest(n)
}

// MarshalBinary encodes the payload into a new slice.
func (l *Link) MarshalBinary() ([]byte, error) { return marshal(l.Encode) }

// AppendBinary appends the payload to b.
func (l *Link) AppendBinary(b []byte) ([]byte, error) { return appendTo(b, l.Encode) }
