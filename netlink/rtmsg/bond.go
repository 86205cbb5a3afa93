package rtmsg

import (
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// BondMaxTargets is BOND_MAX_ARP_TARGETS (and BOND_MAX_NS_TARGETS).
const BondMaxTargets = 16

// Bond is a bond's IFLA_INFO_DATA (IFLA_BOND_*). Has says which
// attributes are present; Encode writes the present ones in the order
// the kernel's bond_fill_info does.
type Bond struct {
	Has             AttrSet
	Mode            uint8
	ActiveSlave     uint32
	Miimon          uint32
	UpDelay         uint32
	DownDelay       uint32
	PeerNotifDelay  uint32
	UseCarrier      uint8
	ARPInterval     uint32
	ARPIPTargets    []netip.Addr // IFLA_BOND_ARP_IP_TARGET: nest of be32, types 0..15
	ARPValidate     uint32
	ARPAllTargets   uint32
	NSIP6Targets    []netip.Addr // IFLA_BOND_NS_IP6_TARGET
	Primary         uint32
	PrimaryReselect uint8
	FailOverMAC     uint8
	XmitHashPolicy  uint8
	ResendIGMP      uint32
	NumPeerNotif    uint8
	AllSlavesActive uint8
	MinLinks        uint32
	LPInterval      uint32
	PacketsPerSlave uint32
	LACPActive      uint8
	LACPRate        uint8
	ADSelect        uint8
	TLBDynamicLB    uint8
	MissedMax       uint8
	CoupledControl  uint8
	ADActorSysPrio  uint16
	ADUserPortKey   uint16
	ADActorSystem   [6]byte
	ADInfo          BondADInfo // present when Has(IFLA_BOND_AD_INFO)
}

// BondADInfo is IFLA_BOND_AD_INFO: the active aggregator.
type BondADInfo struct {
	Aggregator uint16
	NumPorts   uint16
	ActorKey   uint16
	PartnerKey uint16
	PartnerMAC [6]byte
}

// Set marks attribute t present (for building requests).
func (b *Bond) Set(t uint16) { b.Has.Set(t) }

// Encode appends the present attributes in bond_fill_info's order and
// types: nests without NLA_F_NESTED except NS_IP6_TARGET, which the
// kernel opens with nla_nest_start.
func (b *Bond) Encode(e *netlink.AttributeEncoder) {
	h := &b.Has
	u8 := func(t uint16, v uint8) {
		if h.Has(t) {
			e.Uint8(t, v)
		}
	}
	u16 := func(t uint16, v uint16) {
		if h.Has(t) {
			e.Uint16(t, v)
		}
	}
	u32 := func(t uint16, v uint32) {
		if h.Has(t) {
			e.Uint32(t, v)
		}
	}
	u8(unix.IFLA_BOND_MODE, b.Mode)
	u32(unix.IFLA_BOND_ACTIVE_SLAVE, b.ActiveSlave)
	u32(unix.IFLA_BOND_MIIMON, b.Miimon)
	u32(unix.IFLA_BOND_UPDELAY, b.UpDelay)
	u32(unix.IFLA_BOND_DOWNDELAY, b.DownDelay)
	u32(unix.IFLA_BOND_PEER_NOTIF_DELAY, b.PeerNotifDelay)
	u8(unix.IFLA_BOND_USE_CARRIER, b.UseCarrier)
	u32(unix.IFLA_BOND_ARP_INTERVAL, b.ARPInterval)
	if h.Has(unix.IFLA_BOND_ARP_IP_TARGET) {
		n := e.BeginNest(unix.IFLA_BOND_ARP_IP_TARGET)
		for i, a := range b.ARPIPTargets {
			if i < BondMaxTargets && a.Is4() {
				e.Addr(uint16(i), a)
			}
		}
		e.EndNest(n)
	}
	u32(unix.IFLA_BOND_ARP_VALIDATE, b.ARPValidate)
	u32(unix.IFLA_BOND_ARP_ALL_TARGETS, b.ARPAllTargets)
	if h.Has(unix.IFLA_BOND_NS_IP6_TARGET) {
		n := e.BeginNest(unix.IFLA_BOND_NS_IP6_TARGET | unix.NLA_F_NESTED)
		for i, a := range b.NSIP6Targets {
			if i < BondMaxTargets && a.Is6() {
				e.Addr(uint16(i), a)
			}
		}
		e.EndNest(n)
	}
	u32(unix.IFLA_BOND_PRIMARY, b.Primary)
	u8(unix.IFLA_BOND_PRIMARY_RESELECT, b.PrimaryReselect)
	u8(unix.IFLA_BOND_FAIL_OVER_MAC, b.FailOverMAC)
	u8(unix.IFLA_BOND_XMIT_HASH_POLICY, b.XmitHashPolicy)
	u32(unix.IFLA_BOND_RESEND_IGMP, b.ResendIGMP)
	u8(unix.IFLA_BOND_NUM_PEER_NOTIF, b.NumPeerNotif)
	u8(unix.IFLA_BOND_ALL_SLAVES_ACTIVE, b.AllSlavesActive)
	u32(unix.IFLA_BOND_MIN_LINKS, b.MinLinks)
	u32(unix.IFLA_BOND_LP_INTERVAL, b.LPInterval)
	u32(unix.IFLA_BOND_PACKETS_PER_SLAVE, b.PacketsPerSlave)
	u8(unix.IFLA_BOND_AD_LACP_ACTIVE, b.LACPActive)
	u8(unix.IFLA_BOND_AD_LACP_RATE, b.LACPRate)
	u8(unix.IFLA_BOND_AD_SELECT, b.ADSelect)
	u8(unix.IFLA_BOND_TLB_DYNAMIC_LB, b.TLBDynamicLB)
	u8(unix.IFLA_BOND_MISSED_MAX, b.MissedMax)
	u8(unix.IFLA_BOND_COUPLED_CONTROL, b.CoupledControl)
	u16(unix.IFLA_BOND_AD_ACTOR_SYS_PRIO, b.ADActorSysPrio)
	u16(unix.IFLA_BOND_AD_USER_PORT_KEY, b.ADUserPortKey)
	if h.Has(unix.IFLA_BOND_AD_ACTOR_SYSTEM) {
		e.PutBytes(unix.IFLA_BOND_AD_ACTOR_SYSTEM, b.ADActorSystem[:])
	}
	if h.Has(unix.IFLA_BOND_AD_INFO) {
		n := e.BeginNest(unix.IFLA_BOND_AD_INFO)
		e.Uint16(unix.IFLA_BOND_AD_INFO_AGGREGATOR, b.ADInfo.Aggregator)
		e.Uint16(unix.IFLA_BOND_AD_INFO_NUM_PORTS, b.ADInfo.NumPorts)
		e.Uint16(unix.IFLA_BOND_AD_INFO_ACTOR_KEY, b.ADInfo.ActorKey)
		e.Uint16(unix.IFLA_BOND_AD_INFO_PARTNER_KEY, b.ADInfo.PartnerKey)
		e.PutBytes(unix.IFLA_BOND_AD_INFO_PARTNER_MAC, b.ADInfo.PartnerMAC[:])
		e.EndNest(n)
	}
}

// EncodeBond returns b encoded as an IFLA_INFO_DATA payload.
func EncodeBond(b *Bond) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	b.Encode(e)
	return e.Bytes(), e.Err()
}

// DecodeBond reads a bond's IFLA_INFO_DATA. Attributes of the wrong size
// are refused (ErrTruncated), as the kernel's policy refuses them;
// unknown ones are skipped.
func DecodeBond(data []byte) (Bond, error) {
	var b Bond
	d := netlink.NewAttributeDecoder(data)
	for d.Next() {
		t := d.Type()
		p := d.Bytes()
		var err error
		switch t {
		case unix.IFLA_BOND_MODE, unix.IFLA_BOND_USE_CARRIER, unix.IFLA_BOND_PRIMARY_RESELECT,
			unix.IFLA_BOND_FAIL_OVER_MAC, unix.IFLA_BOND_XMIT_HASH_POLICY, unix.IFLA_BOND_NUM_PEER_NOTIF,
			unix.IFLA_BOND_ALL_SLAVES_ACTIVE, unix.IFLA_BOND_AD_LACP_ACTIVE, unix.IFLA_BOND_AD_LACP_RATE,
			unix.IFLA_BOND_AD_SELECT, unix.IFLA_BOND_TLB_DYNAMIC_LB, unix.IFLA_BOND_MISSED_MAX,
			unix.IFLA_BOND_COUPLED_CONTROL:
			var v uint8
			v, err = d.Uint8()
			*bondU8(&b, t) = v
		case unix.IFLA_BOND_ACTIVE_SLAVE, unix.IFLA_BOND_MIIMON, unix.IFLA_BOND_UPDELAY, unix.IFLA_BOND_DOWNDELAY,
			unix.IFLA_BOND_PEER_NOTIF_DELAY, unix.IFLA_BOND_ARP_INTERVAL, unix.IFLA_BOND_ARP_VALIDATE,
			unix.IFLA_BOND_ARP_ALL_TARGETS, unix.IFLA_BOND_PRIMARY, unix.IFLA_BOND_RESEND_IGMP,
			unix.IFLA_BOND_MIN_LINKS, unix.IFLA_BOND_LP_INTERVAL, unix.IFLA_BOND_PACKETS_PER_SLAVE:
			var v uint32
			v, err = d.Uint32()
			*bondU32(&b, t) = v
		case unix.IFLA_BOND_AD_ACTOR_SYS_PRIO:
			b.ADActorSysPrio, err = d.Uint16()
		case unix.IFLA_BOND_AD_USER_PORT_KEY:
			b.ADUserPortKey, err = d.Uint16()
		case unix.IFLA_BOND_AD_ACTOR_SYSTEM:
			if len(p) != 6 {
				return b, ErrTruncated
			}
			copy(b.ADActorSystem[:], p)
		case unix.IFLA_BOND_ARP_IP_TARGET, unix.IFLA_BOND_NS_IP6_TARGET:
			n := netlink.NewAttributeDecoder(p)
			for n.Next() {
				a, ok := netip.AddrFromSlice(n.Bytes())
				if !ok {
					return b, ErrTruncated
				}
				if t == unix.IFLA_BOND_ARP_IP_TARGET {
					b.ARPIPTargets = append(b.ARPIPTargets, a)
				} else {
					b.NSIP6Targets = append(b.NSIP6Targets, a)
				}
			}
			err = n.Err()
		case unix.IFLA_BOND_AD_INFO:
			n := netlink.NewAttributeDecoder(p)
			for n.Next() {
				switch n.Type() {
				case unix.IFLA_BOND_AD_INFO_AGGREGATOR:
					b.ADInfo.Aggregator, err = n.Uint16()
				case unix.IFLA_BOND_AD_INFO_NUM_PORTS:
					b.ADInfo.NumPorts, err = n.Uint16()
				case unix.IFLA_BOND_AD_INFO_ACTOR_KEY:
					b.ADInfo.ActorKey, err = n.Uint16()
				case unix.IFLA_BOND_AD_INFO_PARTNER_KEY:
					b.ADInfo.PartnerKey, err = n.Uint16()
				case unix.IFLA_BOND_AD_INFO_PARTNER_MAC:
					if len(n.Bytes()) >= 6 {
						copy(b.ADInfo.PartnerMAC[:], n.Bytes())
					}
				}
				if err != nil {
					return b, err
				}
			}
			err = n.Err()
		default:
			continue
		}
		if err != nil {
			return b, err
		}
		b.Has.Set(t)
	}
	return b, d.Err()
}

func bondU8(b *Bond, t uint16) *uint8 {
	switch t {
	case unix.IFLA_BOND_MODE:
		return &b.Mode
	case unix.IFLA_BOND_USE_CARRIER:
		return &b.UseCarrier
	case unix.IFLA_BOND_PRIMARY_RESELECT:
		return &b.PrimaryReselect
	case unix.IFLA_BOND_FAIL_OVER_MAC:
		return &b.FailOverMAC
	case unix.IFLA_BOND_XMIT_HASH_POLICY:
		return &b.XmitHashPolicy
	case unix.IFLA_BOND_NUM_PEER_NOTIF:
		return &b.NumPeerNotif
	case unix.IFLA_BOND_ALL_SLAVES_ACTIVE:
		return &b.AllSlavesActive
	case unix.IFLA_BOND_AD_LACP_ACTIVE:
		return &b.LACPActive
	case unix.IFLA_BOND_AD_LACP_RATE:
		return &b.LACPRate
	case unix.IFLA_BOND_AD_SELECT:
		return &b.ADSelect
	case unix.IFLA_BOND_TLB_DYNAMIC_LB:
		return &b.TLBDynamicLB
	case unix.IFLA_BOND_MISSED_MAX:
		return &b.MissedMax
	default:
		return &b.CoupledControl
	}
}

func bondU32(b *Bond, t uint16) *uint32 {
	switch t {
	case unix.IFLA_BOND_ACTIVE_SLAVE:
		return &b.ActiveSlave
	case unix.IFLA_BOND_MIIMON:
		return &b.Miimon
	case unix.IFLA_BOND_UPDELAY:
		return &b.UpDelay
	case unix.IFLA_BOND_DOWNDELAY:
		return &b.DownDelay
	case unix.IFLA_BOND_PEER_NOTIF_DELAY:
		return &b.PeerNotifDelay
	case unix.IFLA_BOND_ARP_INTERVAL:
		return &b.ARPInterval
	case unix.IFLA_BOND_ARP_VALIDATE:
		return &b.ARPValidate
	case unix.IFLA_BOND_ARP_ALL_TARGETS:
		return &b.ARPAllTargets
	case unix.IFLA_BOND_PRIMARY:
		return &b.Primary
	case unix.IFLA_BOND_RESEND_IGMP:
		return &b.ResendIGMP
	case unix.IFLA_BOND_MIN_LINKS:
		return &b.MinLinks
	case unix.IFLA_BOND_LP_INTERVAL:
		return &b.LPInterval
	default:
		return &b.PacketsPerSlave
	}
}

// BondSlave is a bond port's IFLA_INFO_SLAVE_DATA (IFLA_BOND_SLAVE_*).
type BondSlave struct {
	Has                    AttrSet
	State                  uint8
	MIIStatus              uint8
	LinkFailureCount       uint32
	PermHWAddr             []byte
	QueueID                uint16
	Prio                   int32
	ADAggregatorID         uint16
	ADActorOperPortState   uint8
	ADPartnerOperPortState uint16
}

// Encode appends the present attributes in bond_fill_slave_info's order.
func (s *BondSlave) Encode(e *netlink.AttributeEncoder) {
	h := &s.Has
	if h.Has(unix.IFLA_BOND_SLAVE_STATE) {
		e.Uint8(unix.IFLA_BOND_SLAVE_STATE, s.State)
	}
	if h.Has(unix.IFLA_BOND_SLAVE_MII_STATUS) {
		e.Uint8(unix.IFLA_BOND_SLAVE_MII_STATUS, s.MIIStatus)
	}
	if h.Has(unix.IFLA_BOND_SLAVE_LINK_FAILURE_COUNT) {
		e.Uint32(unix.IFLA_BOND_SLAVE_LINK_FAILURE_COUNT, s.LinkFailureCount)
	}
	if h.Has(unix.IFLA_BOND_SLAVE_PERM_HWADDR) {
		e.PutBytes(unix.IFLA_BOND_SLAVE_PERM_HWADDR, s.PermHWAddr)
	}
	if h.Has(unix.IFLA_BOND_SLAVE_QUEUE_ID) {
		e.Uint16(unix.IFLA_BOND_SLAVE_QUEUE_ID, s.QueueID)
	}
	if h.Has(unix.IFLA_BOND_SLAVE_PRIO) {
		e.Int32(unix.IFLA_BOND_SLAVE_PRIO, s.Prio)
	}
	if h.Has(unix.IFLA_BOND_SLAVE_AD_AGGREGATOR_ID) {
		e.Uint16(unix.IFLA_BOND_SLAVE_AD_AGGREGATOR_ID, s.ADAggregatorID)
	}
	if h.Has(unix.IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE) {
		e.Uint8(unix.IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE, s.ADActorOperPortState)
	}
	if h.Has(unix.IFLA_BOND_SLAVE_AD_PARTNER_OPER_PORT_STATE) {
		e.Uint16(unix.IFLA_BOND_SLAVE_AD_PARTNER_OPER_PORT_STATE, s.ADPartnerOperPortState)
	}
}

// EncodeBondSlave returns s as an IFLA_INFO_SLAVE_DATA payload.
func EncodeBondSlave(s *BondSlave) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	s.Encode(e)
	return e.Bytes(), e.Err()
}

// DecodeBondSlave reads a bond port's IFLA_INFO_SLAVE_DATA.
func DecodeBondSlave(data []byte) (BondSlave, error) {
	var s BondSlave
	d := netlink.NewAttributeDecoder(data)
	for d.Next() {
		t := d.Type()
		var err error
		switch t {
		case unix.IFLA_BOND_SLAVE_STATE:
			s.State, err = d.Uint8()
		case unix.IFLA_BOND_SLAVE_MII_STATUS:
			s.MIIStatus, err = d.Uint8()
		case unix.IFLA_BOND_SLAVE_LINK_FAILURE_COUNT:
			s.LinkFailureCount, err = d.Uint32()
		case unix.IFLA_BOND_SLAVE_PERM_HWADDR:
			s.PermHWAddr = append([]byte(nil), d.Bytes()...)
		case unix.IFLA_BOND_SLAVE_QUEUE_ID:
			s.QueueID, err = d.Uint16()
		case unix.IFLA_BOND_SLAVE_PRIO:
			s.Prio, err = d.Int32()
		case unix.IFLA_BOND_SLAVE_AD_AGGREGATOR_ID:
			s.ADAggregatorID, err = d.Uint16()
		case unix.IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE:
			s.ADActorOperPortState, err = d.Uint8()
		case unix.IFLA_BOND_SLAVE_AD_PARTNER_OPER_PORT_STATE:
			s.ADPartnerOperPortState, err = d.Uint16()
		default:
			continue
		}
		if err != nil {
			return s, err
		}
		s.Has.Set(t)
	}
	return s, d.Err()
}
