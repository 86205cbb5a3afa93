package rtnl

import (
	"net/netip"

	"github.com/usnet/usnet/drivers/bond"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// The bonding kind (drivers/net/bonding/bond_netlink.c): newlink is
// changelink on a fresh bond; slaves join through IFLA_MASTER.
func init() {
	registerLinkKind("bond", &linkOps{
		defaultName: "bond%d",
		newLink: func(t *netdev.Table, name string, l *rtmsg.Link, _ *netdev.Device) (*netdev.Device, error) {
			var o bond.Options
			if l.Info != nil && l.Info.Data != nil {
				m, err := rtmsg.DecodeBond(l.Info.Data)
				if err != nil {
					return nil, err
				}
				bondOptions(&m, &o)
			}
			d, err := bond.New(t, name, bond.DefaultParams())
			if err != nil {
				return nil, err
			}
			if err := bond.FromDevice(d).Apply(&o); err != nil {
				t.Unregister(d)
				return nil, err
			}
			return d, nil
		},
		changeLink: func(d *netdev.Device, data []byte) error {
			m, err := rtmsg.DecodeBond(data)
			if err != nil {
				return err
			}
			var o bond.Options
			bondOptions(&m, &o)
			return bond.FromDevice(d).Apply(&o)
		},
		fillData: func(e *netlink.AttributeEncoder, d *netdev.Device) {
			if b := bond.FromDevice(d); b != nil {
				m := bondInfo(b)
				m.Encode(e)
			}
		},
		addSlave:  func(m, port *netdev.Device) error { return bond.FromDevice(m).Enslave(port) },
		delSlave:  func(m, port *netdev.Device) error { return bond.FromDevice(m).Release(port) },
		slaveKind: "bond",
		fillSlaveData: func(e *netlink.AttributeEncoder, m, port *netdev.Device) {
			b := bond.FromDevice(m)
			if b == nil {
				return
			}
			if s := b.SlaveOf(port); s != nil {
				info := bondSlaveInfo(b, s)
				info.Encode(e)
			}
		},
		changeSlave: func(m, port *netdev.Device, data []byte) error {
			b := bond.FromDevice(m)
			s := b.SlaveOf(port)
			if s == nil {
				return errMsg(unix.EINVAL, "Device is not bonding slave")
			}
			sd, err := rtmsg.DecodeBondSlave(data)
			if err != nil {
				return err
			}
			if sd.Has.Has(unix.IFLA_BOND_SLAVE_QUEUE_ID) {
				s.SetQueueID(sd.QueueID)
			}
			if sd.Has.Has(unix.IFLA_BOND_SLAVE_PRIO) {
				s.SetPrio(sd.Prio)
			}
			return nil
		},
	})
}

// bondOptions turns the attributes of a request into option changes.
func bondOptions(m *rtmsg.Bond, o *bond.Options) {
	h := &m.Has
	if h.Has(unix.IFLA_BOND_MODE) {
		v := bond.Mode(m.Mode)
		o.Mode = &v
	}
	u32 := func(t uint16, v uint32, dst **uint32) {
		if h.Has(t) {
			*dst = &v
		}
	}
	u8 := func(t uint16, v uint8, dst **uint8) {
		if h.Has(t) {
			*dst = &v
		}
	}
	u16 := func(t uint16, v uint16, dst **uint16) {
		if h.Has(t) {
			*dst = &v
		}
	}
	u32(unix.IFLA_BOND_ACTIVE_SLAVE, m.ActiveSlave, &o.ActiveSlave)
	u32(unix.IFLA_BOND_MIIMON, m.Miimon, &o.Miimon)
	u32(unix.IFLA_BOND_UPDELAY, m.UpDelay, &o.UpDelay)
	u32(unix.IFLA_BOND_DOWNDELAY, m.DownDelay, &o.DownDelay)
	u32(unix.IFLA_BOND_PEER_NOTIF_DELAY, m.PeerNotifDelay, &o.PeerNotifDelay)
	u8(unix.IFLA_BOND_USE_CARRIER, m.UseCarrier, &o.UseCarrier)
	u32(unix.IFLA_BOND_ARP_INTERVAL, m.ARPInterval, &o.ARPInterval)
	if h.Has(unix.IFLA_BOND_ARP_IP_TARGET) {
		t := m.ARPIPTargets
		if t == nil {
			t = []netip.Addr{}
		}
		o.ARPIPTargets = &t
	}
	u32(unix.IFLA_BOND_ARP_VALIDATE, m.ARPValidate, &o.ARPValidate)
	u32(unix.IFLA_BOND_ARP_ALL_TARGETS, m.ARPAllTargets, &o.ARPAllTargets)
	u32(unix.IFLA_BOND_PRIMARY, m.Primary, &o.Primary)
	u8(unix.IFLA_BOND_PRIMARY_RESELECT, m.PrimaryReselect, &o.PrimaryReselect)
	u8(unix.IFLA_BOND_FAIL_OVER_MAC, m.FailOverMAC, &o.FailOverMAC)
	if h.Has(unix.IFLA_BOND_XMIT_HASH_POLICY) {
		v := bond.HashPolicy(m.XmitHashPolicy)
		o.XmitHashPolicy = &v
	}
	u32(unix.IFLA_BOND_RESEND_IGMP, m.ResendIGMP, &o.ResendIGMP)
	u8(unix.IFLA_BOND_NUM_PEER_NOTIF, m.NumPeerNotif, &o.NumPeerNotif)
	u8(unix.IFLA_BOND_ALL_SLAVES_ACTIVE, m.AllSlavesActive, &o.AllSlavesActive)
	u32(unix.IFLA_BOND_MIN_LINKS, m.MinLinks, &o.MinLinks)
	u32(unix.IFLA_BOND_LP_INTERVAL, m.LPInterval, &o.LPInterval)
	u32(unix.IFLA_BOND_PACKETS_PER_SLAVE, m.PacketsPerSlave, &o.PacketsPerSlave)
	u8(unix.IFLA_BOND_AD_LACP_ACTIVE, m.LACPActive, &o.LACPActive)
	u8(unix.IFLA_BOND_AD_LACP_RATE, m.LACPRate, &o.LACPRate)
	u8(unix.IFLA_BOND_AD_SELECT, m.ADSelect, &o.ADSelect)
	u16(unix.IFLA_BOND_AD_ACTOR_SYS_PRIO, m.ADActorSysPrio, &o.ADActorSysPrio)
	u16(unix.IFLA_BOND_AD_USER_PORT_KEY, m.ADUserPortKey, &o.ADUserPortKey)
	if h.Has(unix.IFLA_BOND_AD_ACTOR_SYSTEM) {
		v := m.ADActorSystem
		o.ADActorSystem = &v
	}
	u8(unix.IFLA_BOND_TLB_DYNAMIC_LB, m.TLBDynamicLB, &o.TLBDynamicLB)
	u8(unix.IFLA_BOND_MISSED_MAX, m.MissedMax, &o.MissedMax)
	u8(unix.IFLA_BOND_COUPLED_CONTROL, m.CoupledControl, &o.CoupledControl)
}

// bondInfo is bond_fill_info: what the kernel reports, in its order.
func bondInfo(b *bond.Bond) rtmsg.Bond {
	p := b.Params()
	m := rtmsg.Bond{
		Mode: uint8(p.Mode), Miimon: p.Miimon,
		UpDelay: p.UpDelay * p.Miimon, DownDelay: p.DownDelay * p.Miimon, PeerNotifDelay: p.PeerNotifDelay * p.Miimon,
		UseCarrier: p.UseCarrier, ARPInterval: p.ARPInterval, ARPIPTargets: p.ARPTargets,
		ARPValidate: p.ARPValidate, ARPAllTargets: p.ARPAllTargets,
		PrimaryReselect: p.PrimaryReselect, FailOverMAC: p.FailOverMAC, XmitHashPolicy: uint8(p.XmitHashPolicy),
		ResendIGMP: p.ResendIGMP, NumPeerNotif: p.NumPeerNotif, AllSlavesActive: p.AllSlavesActive,
		MinLinks: p.MinLinks, LPInterval: p.LPInterval, PacketsPerSlave: p.PacketsPerSlave,
		LACPActive: p.LACPActive, LACPRate: p.LACPFast, ADSelect: p.ADSelect,
		TLBDynamicLB: p.TLBDynamicLB, MissedMax: p.MissedMax, CoupledControl: p.CoupledControl,
		ADActorSysPrio: p.ADActorSysPrio, ADUserPortKey: p.ADUserPortKey, ADActorSystem: p.ADActorSystem,
	}
	for _, t := range []uint16{
		unix.IFLA_BOND_MODE, unix.IFLA_BOND_MIIMON, unix.IFLA_BOND_UPDELAY, unix.IFLA_BOND_DOWNDELAY,
		unix.IFLA_BOND_PEER_NOTIF_DELAY, unix.IFLA_BOND_USE_CARRIER, unix.IFLA_BOND_ARP_INTERVAL,
		unix.IFLA_BOND_ARP_VALIDATE, unix.IFLA_BOND_ARP_ALL_TARGETS, unix.IFLA_BOND_PRIMARY_RESELECT,
		unix.IFLA_BOND_FAIL_OVER_MAC, unix.IFLA_BOND_XMIT_HASH_POLICY, unix.IFLA_BOND_RESEND_IGMP,
		unix.IFLA_BOND_NUM_PEER_NOTIF, unix.IFLA_BOND_ALL_SLAVES_ACTIVE, unix.IFLA_BOND_MIN_LINKS,
		unix.IFLA_BOND_LP_INTERVAL, unix.IFLA_BOND_PACKETS_PER_SLAVE, unix.IFLA_BOND_AD_LACP_ACTIVE,
		unix.IFLA_BOND_AD_LACP_RATE, unix.IFLA_BOND_AD_SELECT, unix.IFLA_BOND_TLB_DYNAMIC_LB,
		unix.IFLA_BOND_MISSED_MAX, unix.IFLA_BOND_COUPLED_CONTROL,
	} {
		m.Has.Set(t)
	}
	if a := b.ActiveSlave(); a != nil {
		m.ActiveSlave = uint32(a.Ifindex())
		m.Has.Set(unix.IFLA_BOND_ACTIVE_SLAVE)
	}
	if len(p.ARPTargets) > 0 {
		m.Has.Set(unix.IFLA_BOND_ARP_IP_TARGET)
	}
	if pr := b.Primary(); pr != nil {
		m.Primary = uint32(pr.Ifindex())
		m.Has.Set(unix.IFLA_BOND_PRIMARY)
	}
	if p.Mode == bond.Mode8023AD {
		m.Has.Set(unix.IFLA_BOND_AD_ACTOR_SYS_PRIO)
		m.Has.Set(unix.IFLA_BOND_AD_USER_PORT_KEY)
		m.Has.Set(unix.IFLA_BOND_AD_ACTOR_SYSTEM)
		if ai, ok := b.ADInfo(); ok {
			m.ADInfo = rtmsg.BondADInfo{Aggregator: ai.Aggregator, NumPorts: ai.NumPorts, ActorKey: ai.ActorKey, PartnerKey: ai.PartnerKey, PartnerMAC: ai.PartnerMAC}
			m.Has.Set(unix.IFLA_BOND_AD_INFO)
		}
	}
	return m
}

// bondSlaveInfo is bond_fill_slave_info.
func bondSlaveInfo(b *bond.Bond, s *bond.Slave) rtmsg.BondSlave {
	perm := s.PermAddr()
	info := rtmsg.BondSlave{
		State: s.State(), MIIStatus: s.Link(), LinkFailureCount: s.LinkFailureCount(),
		PermHWAddr: perm[:], QueueID: s.QueueID(), Prio: s.Prio(),
	}
	for _, t := range []uint16{
		unix.IFLA_BOND_SLAVE_STATE, unix.IFLA_BOND_SLAVE_MII_STATUS, unix.IFLA_BOND_SLAVE_LINK_FAILURE_COUNT,
		unix.IFLA_BOND_SLAVE_PERM_HWADDR, unix.IFLA_BOND_SLAVE_QUEUE_ID, unix.IFLA_BOND_SLAVE_PRIO,
	} {
		info.Has.Set(t)
	}
	if b.Params().Mode == bond.Mode8023AD {
		if agg, actor, partner, ok := s.ADState(); ok {
			info.ADAggregatorID, info.ADActorOperPortState, info.ADPartnerOperPortState = agg, actor, uint16(partner)
			info.Has.Set(unix.IFLA_BOND_SLAVE_AD_AGGREGATOR_ID)
			info.Has.Set(unix.IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE)
			info.Has.Set(unix.IFLA_BOND_SLAVE_AD_PARTNER_OPER_PORT_STATE)
		}
	}
	return info
}
