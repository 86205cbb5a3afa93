package rtnl

import (
	"encoding/binary"
	"syscall"
	"time"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// The bridge kind (net/bridge/br_netlink.c): IFLA_BR_* in IFLA_INFO_DATA,
// IFLA_BRPORT_* in its ports' IFLA_INFO_SLAVE_DATA.
func init() {
	registerLinkKind("bridge", &linkOps{
		defaultName: "bridge%d",
		newLink: func(t *netdev.Table, name string, l *rtmsg.Link, _ *netdev.Device) (*netdev.Device, error) {
			br, err := bridge.New(t, name)
			if err != nil {
				return nil, err
			}
			if l.Info != nil && l.Info.Data != nil {
				if err := bridgeChange(br, l.Info.Data); err != nil {
					t.Unregister(br.Device())
					return nil, err
				}
			}
			return br.Device(), nil
		},
		changeLink: func(d *netdev.Device, data []byte) error {
			br := bridge.Of(d)
			if br == nil {
				return syscall.EOPNOTSUPP
			}
			return bridgeChange(br, data)
		},
		fillData: func(e *netlink.AttributeEncoder, d *netdev.Device) {
			if br := bridge.Of(d); br != nil {
				bridgeFill(e, br)
			}
		},
		addSlave: func(m, p *netdev.Device) error {
			br := bridge.Of(m)
			if br == nil {
				return syscall.EOPNOTSUPP
			}
			return br.AddPort(p)
		},
		delSlave: func(m, p *netdev.Device) error {
			br := bridge.Of(m)
			if br == nil {
				return syscall.EOPNOTSUPP
			}
			return br.DelPort(p)
		},
		slaveKind: "bridge",
		fillSlaveData: func(e *netlink.AttributeEncoder, m, d *netdev.Device) {
			if p := bridge.PortOf(d); p != nil {
				bridgePortFill(e, p)
			}
		},
		changeSlave: func(m, d *netdev.Device, data []byte) error {
			p := bridge.PortOf(d)
			if p == nil {
				return syscall.EOPNOTSUPP
			}
			return bridgePortChange(p, data)
		},
	})
}

// clockT converts to and from clock_t (USER_HZ = 100), the unit of every
// bridge time attribute.
func clockT(d time.Duration) uint64     { return uint64(d / (10 * time.Millisecond)) }
func fromClockT(v uint64) time.Duration { return time.Duration(v) * 10 * time.Millisecond }

func bridgeIDBytes(id bridge.ID) []byte { b := id.Bytes(); return b[:] }

// Values the kernel reports for features usnet's bridge does not have
// (multicast snooping, netfilter calls): Linux's defaults, so that
// `ip -d link show` reads the same.
const (
	brMcastHashElasticity = 16
	brMcastHashMax        = 4096
	brBoolOptMask         = 0x1f // BR_BOOLOPT_MAX bits known to Linux 6.18
)

// bridgeFill is br_fill_info: the attributes in the kernel's order.
func bridgeFill(e *netlink.AttributeEncoder, br *bridge.Bridge) {
	e.Uint64(unix.IFLA_BR_HELLO_TIMER, clockT(br.HelloTimer()))
	e.Uint64(unix.IFLA_BR_TCN_TIMER, clockT(br.TCNTimer()))
	e.Uint64(unix.IFLA_BR_TOPOLOGY_CHANGE_TIMER, clockT(br.TopologyChangeTimer()))
	e.Uint64(unix.IFLA_BR_GC_TIMER, clockT(br.GCTimer()))
	e.Uint32(unix.IFLA_BR_FORWARD_DELAY, uint32(clockT(br.ForwardDelay())))
	e.Uint32(unix.IFLA_BR_HELLO_TIME, uint32(clockT(br.HelloTime())))
	e.Uint32(unix.IFLA_BR_MAX_AGE, uint32(clockT(br.MaxAge())))
	e.Uint32(unix.IFLA_BR_AGEING_TIME, uint32(clockT(br.AgeingTime())))
	stp := uint32(0)
	if br.STP() {
		stp = 1 // BR_KERNEL_STP
	}
	e.Uint32(unix.IFLA_BR_STP_STATE, stp)
	e.Uint16(unix.IFLA_BR_PRIORITY, br.Priority())
	e.Uint8(unix.IFLA_BR_VLAN_FILTERING, b2u8(br.VlanFiltering()))
	e.Uint16(unix.IFLA_BR_GROUP_FWD_MASK, br.GroupFwdMask())
	e.PutBytes(unix.IFLA_BR_BRIDGE_ID, bridgeIDBytes(br.BridgeID()))
	e.PutBytes(unix.IFLA_BR_ROOT_ID, bridgeIDBytes(br.RootID()))
	e.Uint16(unix.IFLA_BR_ROOT_PORT, br.RootPort())
	e.Uint32(unix.IFLA_BR_ROOT_PATH_COST, br.RootPathCost())
	e.Uint8(unix.IFLA_BR_TOPOLOGY_CHANGE, b2u8(br.TopologyChange()))
	e.Uint8(unix.IFLA_BR_TOPOLOGY_CHANGE_DETECTED, b2u8(br.TopologyChangeDetected()))
	ga := br.GroupAddr()
	e.PutBytes(unix.IFLA_BR_GROUP_ADDR, ga[:])
	var bm [8]byte
	binary.NativeEndian.PutUint32(bm[4:], brBoolOptMask)
	e.PutBytes(unix.IFLA_BR_MULTI_BOOLOPT, bm[:])
	e.Uint32(unix.IFLA_BR_FDB_N_LEARNED, uint32(br.Learned()))
	e.Uint32(unix.IFLA_BR_FDB_MAX_LEARNED, uint32(br.MaxLearned()))
	e.Uint16BE(unix.IFLA_BR_VLAN_PROTOCOL, br.VlanProtocol())
	e.Uint16(unix.IFLA_BR_VLAN_DEFAULT_PVID, br.DefaultPVID())
	e.Uint8(unix.IFLA_BR_VLAN_STATS_ENABLED, 0)
	e.Uint8(unix.IFLA_BR_VLAN_STATS_PER_PORT, 0)
	e.Uint8(unix.IFLA_BR_MCAST_ROUTER, 1)
	e.Uint8(unix.IFLA_BR_MCAST_SNOOPING, 1)
	e.Uint8(unix.IFLA_BR_MCAST_QUERY_USE_IFADDR, 0)
	e.Uint8(unix.IFLA_BR_MCAST_QUERIER, 0)
	e.Uint8(unix.IFLA_BR_MCAST_STATS_ENABLED, 0)
	e.Uint32(unix.IFLA_BR_MCAST_HASH_ELASTICITY, brMcastHashElasticity)
	e.Uint32(unix.IFLA_BR_MCAST_HASH_MAX, brMcastHashMax)
	e.Uint32(unix.IFLA_BR_MCAST_LAST_MEMBER_CNT, 2)
	e.Uint32(unix.IFLA_BR_MCAST_STARTUP_QUERY_CNT, 2)
	e.Uint8(unix.IFLA_BR_MCAST_IGMP_VERSION, 2)
	e.Uint8(unix.IFLA_BR_MCAST_MLD_VERSION, 1)
	e.Uint64(unix.IFLA_BR_MCAST_LAST_MEMBER_INTVL, 100)
	e.Uint64(unix.IFLA_BR_MCAST_MEMBERSHIP_INTVL, 26000)
	e.Uint64(unix.IFLA_BR_MCAST_QUERIER_INTVL, 25500)
	e.Uint64(unix.IFLA_BR_MCAST_QUERY_INTVL, 12500)
	e.Uint64(unix.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, 1000)
	// 31.25 s in jiffies (HZ 250) back to clock_t, as the kernel reports it.
	e.Uint64(unix.IFLA_BR_MCAST_STARTUP_QUERY_INTVL, 3124)
	e.Uint8(unix.IFLA_BR_NF_CALL_IPTABLES, 0)
	e.Uint8(unix.IFLA_BR_NF_CALL_IP6TABLES, 0)
	e.Uint8(unix.IFLA_BR_NF_CALL_ARPTABLES, 0)
}

// bridgeChange is br_changelink: it applies the attributes the kernel
// applies, in its order, stopping at the first error.
func bridgeChange(br *bridge.Bridge, data []byte) error {
	attrs, err := rtmsg.ParseBridgeAttrs(data)
	if err != nil {
		return syscall.EINVAL
	}
	get := func(t uint16) ([]byte, bool) { return rtmsg.FindBridgeAttr(attrs, t) }
	u32 := func(t uint16) (uint32, bool, error) {
		b, ok := get(t)
		if !ok {
			return 0, false, nil
		}
		v, err := netlink.Uint32(b)
		if err != nil {
			return 0, false, errMsg(syscall.EINVAL, "invalid attribute length")
		}
		return v, true, nil
	}
	u16 := func(t uint16) (uint16, bool, error) {
		b, ok := get(t)
		if !ok {
			return 0, false, nil
		}
		v, err := netlink.Uint16(b)
		if err != nil {
			return 0, false, errMsg(syscall.EINVAL, "invalid attribute length")
		}
		return v, true, nil
	}
	u8 := func(t uint16) (uint8, bool, error) {
		b, ok := get(t)
		if !ok {
			return 0, false, nil
		}
		if len(b) < 1 {
			return 0, false, errMsg(syscall.EINVAL, "invalid attribute length")
		}
		return b[0], true, nil
	}
	// br_validate: the VLAN protocol first.
	if b, ok := get(unix.IFLA_BR_VLAN_PROTOCOL); ok {
		if len(b) < 2 {
			return syscall.EINVAL
		}
		if p := uint16(b[0])<<8 | uint16(b[1]); p != 0x8100 && p != 0x88a8 {
			return syscall.EPROTONOSUPPORT
		}
	}
	type timeSetter struct {
		t   uint16
		set func(time.Duration) error
	}
	for _, s := range []timeSetter{
		{unix.IFLA_BR_FORWARD_DELAY, br.SetForwardDelay},
		{unix.IFLA_BR_HELLO_TIME, br.SetHelloTime},
		{unix.IFLA_BR_MAX_AGE, br.SetMaxAge},
		{unix.IFLA_BR_AGEING_TIME, br.SetAgeingTime},
	} {
		v, ok, err := u32(s.t)
		if err != nil {
			return err
		}
		if ok {
			if err := s.set(fromClockT(uint64(v))); err != nil {
				return err
			}
		}
	}
	if v, ok, err := u32(unix.IFLA_BR_STP_STATE); err != nil {
		return err
	} else if ok {
		br.SetSTP(v != 0)
	}
	if v, ok, err := u16(unix.IFLA_BR_PRIORITY); err != nil {
		return err
	} else if ok {
		br.SetPriority(v)
	}
	if v, ok, err := u8(unix.IFLA_BR_VLAN_FILTERING); err != nil {
		return err
	} else if ok {
		br.SetVlanFiltering(v != 0)
	}
	if b, ok := get(unix.IFLA_BR_VLAN_PROTOCOL); ok {
		if err := br.SetVlanProtocol(uint16(b[0])<<8 | uint16(b[1])); err != nil {
			return err
		}
	}
	if v, ok, err := u16(unix.IFLA_BR_GROUP_FWD_MASK); err != nil {
		return err
	} else if ok {
		if err := br.SetGroupFwdMask(v); err != nil {
			return err
		}
	}
	if b, ok := get(unix.IFLA_BR_GROUP_ADDR); ok {
		if len(b) < 6 {
			return syscall.EINVAL
		}
		if err := br.SetGroupAddr([6]byte(b[:6])); err != nil {
			return err
		}
	}
	if _, ok := get(unix.IFLA_BR_FDB_FLUSH); ok {
		br.FDBFlush()
	}
	if v, ok, err := u16(unix.IFLA_BR_VLAN_DEFAULT_PVID); err != nil {
		return err
	} else if ok {
		if err := br.SetDefaultPVID(v); err != nil {
			return err
		}
	}
	if v, ok, err := u32(unix.IFLA_BR_FDB_MAX_LEARNED); err != nil {
		return err
	} else if ok {
		br.SetMaxLearned(int(v))
	}
	return nil
}

// bridgePortFill is br_port_fill_attrs, in the kernel's order.
func bridgePortFill(e *netlink.AttributeEncoder, p *bridge.Port) {
	f := func(fl bridge.PortFlags) uint8 { return b2u8(p.Has(fl)) }
	e.Uint8(unix.IFLA_BRPORT_STATE, p.State())
	e.Uint16(unix.IFLA_BRPORT_PRIORITY, uint16(p.Priority()))
	e.Uint32(unix.IFLA_BRPORT_COST, p.PathCost())
	e.Uint8(unix.IFLA_BRPORT_MODE, f(bridge.FlagHairpin))
	e.Uint8(unix.IFLA_BRPORT_GUARD, f(bridge.FlagBPDUGuard))
	e.Uint8(unix.IFLA_BRPORT_PROTECT, f(bridge.FlagRootBlock))
	e.Uint8(unix.IFLA_BRPORT_FAST_LEAVE, f(bridge.FlagFastLeave))
	e.Uint8(unix.IFLA_BRPORT_MCAST_TO_UCAST, f(bridge.FlagMcastToUnicast))
	e.Uint8(unix.IFLA_BRPORT_LEARNING, f(bridge.FlagLearning))
	e.Uint8(unix.IFLA_BRPORT_UNICAST_FLOOD, f(bridge.FlagFlood))
	e.Uint8(unix.IFLA_BRPORT_MCAST_FLOOD, f(bridge.FlagMcastFlood))
	e.Uint8(unix.IFLA_BRPORT_BCAST_FLOOD, f(bridge.FlagBcastFlood))
	e.Uint8(unix.IFLA_BRPORT_PROXYARP, f(bridge.FlagProxyARP))
	e.Uint8(unix.IFLA_BRPORT_PROXYARP_WIFI, 0)
	e.PutBytes(unix.IFLA_BRPORT_ROOT_ID, bridgeIDBytes(p.DesignatedRoot()))
	e.PutBytes(unix.IFLA_BRPORT_BRIDGE_ID, bridgeIDBytes(p.DesignatedBridge()))
	e.Uint16(unix.IFLA_BRPORT_DESIGNATED_PORT, p.DesignatedPort())
	e.Uint16(unix.IFLA_BRPORT_DESIGNATED_COST, uint16(p.DesignatedCost()))
	e.Uint16(unix.IFLA_BRPORT_ID, p.ID())
	e.Uint16(unix.IFLA_BRPORT_NO, p.No())
	e.Uint8(unix.IFLA_BRPORT_TOPOLOGY_CHANGE_ACK, b2u8(p.TopologyChangeAck()))
	e.Uint8(unix.IFLA_BRPORT_CONFIG_PENDING, b2u8(p.ConfigPending()))
	e.Uint8(unix.IFLA_BRPORT_VLAN_TUNNEL, 0)
	e.Uint16(unix.IFLA_BRPORT_GROUP_FWD_MASK, 0)
	e.Uint8(unix.IFLA_BRPORT_NEIGH_SUPPRESS, f(bridge.FlagNeighSuppress))
	e.Uint8(unix.IFLA_BRPORT_MRP_RING_OPEN, 0)
	e.Uint8(unix.IFLA_BRPORT_MRP_IN_OPEN, 0)
	e.Uint8(unix.IFLA_BRPORT_ISOLATED, f(bridge.FlagIsolated))
	e.Uint8(unix.IFLA_BRPORT_LOCKED, 0)
	e.Uint8(unix.IFLA_BRPORT_MAB, 0)
	e.Uint8(unix.IFLA_BRPORT_NEIGH_VLAN_SUPPRESS, 0)
	e.Uint64(unix.IFLA_BRPORT_MESSAGE_AGE_TIMER, clockT(p.MessageAgeTimer()))
	e.Uint64(unix.IFLA_BRPORT_FORWARD_DELAY_TIMER, clockT(p.ForwardDelayTimer()))
	e.Uint64(unix.IFLA_BRPORT_HOLD_TIMER, clockT(p.HoldTimer()))
	e.Uint8(unix.IFLA_BRPORT_MULTICAST_ROUTER, 1)
	e.Uint32(unix.IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT, 512)
	e.Uint32(unix.IFLA_BRPORT_MCAST_EHT_HOSTS_CNT, 0)
	e.Uint32(unix.IFLA_BRPORT_MCAST_N_GROUPS, 0)
	e.Uint32(unix.IFLA_BRPORT_MCAST_MAX_GROUPS, 0)
}

// brportFlagAttrs maps the IFLA_BRPORT_* switches to port flags.
var brportFlagAttrs = []struct {
	t    uint16
	flag bridge.PortFlags
}{
	{unix.IFLA_BRPORT_MODE, bridge.FlagHairpin},
	{unix.IFLA_BRPORT_GUARD, bridge.FlagBPDUGuard},
	{unix.IFLA_BRPORT_PROTECT, bridge.FlagRootBlock},
	{unix.IFLA_BRPORT_FAST_LEAVE, bridge.FlagFastLeave},
	{unix.IFLA_BRPORT_LEARNING, bridge.FlagLearning},
	{unix.IFLA_BRPORT_UNICAST_FLOOD, bridge.FlagFlood},
	{unix.IFLA_BRPORT_PROXYARP, bridge.FlagProxyARP},
	{unix.IFLA_BRPORT_MCAST_FLOOD, bridge.FlagMcastFlood},
	{unix.IFLA_BRPORT_MCAST_TO_UCAST, bridge.FlagMcastToUnicast},
	{unix.IFLA_BRPORT_BCAST_FLOOD, bridge.FlagBcastFlood},
	{unix.IFLA_BRPORT_NEIGH_SUPPRESS, bridge.FlagNeighSuppress},
	{unix.IFLA_BRPORT_ISOLATED, bridge.FlagIsolated},
}

// bridgePortChange is br_setport: flags, then cost, priority, state,
// flush. Used for IFLA_INFO_SLAVE_DATA and IFLA_PROTINFO alike.
func bridgePortChange(p *bridge.Port, data []byte) error {
	attrs, err := rtmsg.ParseBridgeAttrs(data)
	if err != nil {
		return syscall.EINVAL
	}
	get := func(t uint16) ([]byte, bool) { return rtmsg.FindBridgeAttr(attrs, t) }
	var set, mask bridge.PortFlags
	for _, a := range brportFlagAttrs {
		if b, ok := get(a.t); ok {
			if len(b) < 1 {
				return syscall.EINVAL
			}
			mask |= a.flag
			if b[0] != 0 {
				set |= a.flag
			}
		}
	}
	p.SetFlags(set, mask)
	if b, ok := get(unix.IFLA_BRPORT_COST); ok {
		v, err := netlink.Uint32(b)
		if err != nil {
			return syscall.EINVAL
		}
		if err := p.SetPathCost(v); err != nil {
			return err
		}
	}
	if b, ok := get(unix.IFLA_BRPORT_PRIORITY); ok {
		v, err := netlink.Uint16(b)
		if err != nil {
			return syscall.EINVAL
		}
		if v > 0xff {
			return syscall.ERANGE
		}
		if err := p.SetPriority(uint8(v)); err != nil {
			return err
		}
	}
	if b, ok := get(unix.IFLA_BRPORT_STATE); ok {
		if len(b) < 1 {
			return syscall.EINVAL
		}
		if err := p.SetState(b[0]); err != nil {
			return err
		}
	}
	if _, ok := get(unix.IFLA_BRPORT_FLUSH); ok {
		p.Flush()
	}
	if b, ok := get(unix.IFLA_BRPORT_GROUP_FWD_MASK); ok {
		v, err := netlink.Uint16(b)
		if err != nil {
			return syscall.EINVAL
		}
		if v != 0 {
			return errMsg(syscall.EOPNOTSUPP, "per-port group_fwd_mask is not supported")
		}
	}
	return nil
}
