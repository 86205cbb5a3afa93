// Package vxlan is the VXLAN device (drivers/net/vxlan/vxlan_core.c,
// RFC 7348): Ethernet frames carried in UDP over IPv4 between tunnel
// endpoints, demultiplexed by a 24-bit VNI. A device encapsulates what it
// transmits towards the destination its forwarding database (FDB) names for
// the inner destination MAC — or, for unknown and multicast destinations,
// towards every default destination (the all-zeros entry: `remote`, `group`
// or `bridge fdb append 00:00:00:00:00:00 dst …`). It decapsulates what
// arrives on its UDP port with its VNI, learning inner source MAC → outer
// source IP unless `nolearning`, with ageing and a bounded FDB.
//
// Everything runs on the namespace executor. Transmit is deferred by one
// executor event (a kicked timer drains a bounded queue) and receive goes
// through the device's NAPI, so neither re-enters the IP layer's own
// transmit or receive loops.
package vxlan

import (
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/udp"
)

// Protocol constants.
const (
	// DefaultPort is the kernel's default destination port (vxlan_port,
	// the pre-IANA Linux value) used when dstport is 0.
	DefaultPort = 8472
	// IANAPort is the IANA-assigned VXLAN port.
	IANAPort = 4789
	// HdrLen is the VXLAN header.
	HdrLen = 8
	// Headroom is outer IPv4 + UDP + VXLAN + inner Ethernet (VXLAN_HEADROOM).
	Headroom = 20 + 8 + HdrLen + 14
	// DefaultAgeing is FDB_AGE_DEFAULT in seconds.
	DefaultAgeing = 300
	// MaxVNI bounds the 24-bit identifier.
	MaxVNI = 1<<24 - 1
	// flagI is the "VNI present" flag of the header's first word.
	flagI = 0x08000000
)

// DF policies (enum ifla_vxlan_df).
const (
	DFUnset   = 0
	DFSet     = 1
	DFInherit = 2
)

// Config is a device's configuration (struct vxlan_config), as
// `ip link add NAME type vxlan …` sets it.
type Config struct {
	VNI uint32
	// Remote is the default destination: a unicast remote or a multicast
	// group (invalid: none).
	Remote netip.Addr
	Local  netip.Addr
	// Lower is the underlay device (`dev`, IFLA_VXLAN_LINK), or nil. As
	// in Linux it is not the device's IFLA_LINK (no "vx0@eth0").
	Lower      *netdev.Device
	TTL        uint8 // 0: the route's default (1 for a multicast group)
	TTLInherit bool
	TOS        uint8 // 1: inherit from the inner IPv4 header
	DF         uint8
	Label      uint32
	Learning   bool
	Proxy      bool
	RSC        bool
	L2Miss     bool
	L3Miss     bool
	// Ageing of learned entries in seconds; 0 means DefaultAgeing, as
	// the kernel stores it.
	Ageing uint32
	// Limit is maxaddress: the most FDB entries (0: MaxFDB).
	Limit            uint32
	Port             uint16 // destination port; 0: DefaultPort
	PortMin, PortMax uint16 // source port range; 0 0: ip_local_port_range
	NoUDPCsum        bool   // udpcsum is on unless this is set
	UDP6ZeroCsumTx   bool
	UDP6ZeroCsumRx   bool
	RemCsumTx        bool
	RemCsumRx        bool
	NoLocalBypass    bool
	// MTU, if non-zero, is the initial MTU; otherwise 1500, or the lower
	// device's MTU minus Headroom when there is one.
	MTU int
}

// Default returns the configuration the kernel gives a new device with
// only a VNI: learning on, udpcsum on.
func Default(vni uint32) Config { return Config{VNI: vni, Learning: true} }

// Dev is the driver state of one VXLAN device (struct vxlan_dev).
type Dev struct {
	dev *netdev.Device
	vn  *Net
	cfg Config
	fdb fdb

	sock  *sock // the UDP socket while open
	napi  *netdev.NAPI
	rx    *skb.Batch
	txq   ring
	txRun *executor.Timer
	age   *executor.Timer
	key   ipv4.FlowKey // route lookup scratch (see encap)

	// Stats not in Stats64 (vxlan's own counters).
	Stats Counters
}

// Counters are drops the device counts by cause.
type Counters struct {
	RxBadHeader, RxNoVNI, RxLoop, TxNoDest, TxRouteErr, TxLoop, TxQueueFull uint64
}

var _ netdev.Driver = (*Dev)(nil)

// New creates a VXLAN device named name in the namespace vn serves
// (vxlan_dev_create). It runs on that namespace's executor.
func New(vn *Net, name string, c Config) (*Dev, error) {
	if c.VNI > MaxVNI {
		return nil, fmt.Errorf("vxlan: VNI %d out of range: %w", c.VNI, syscall.ERANGE)
	}
	if c.Remote.IsValid() && !c.Remote.Is4() || c.Local.IsValid() && !c.Local.Is4() {
		return nil, fmt.Errorf("vxlan: IPv6 endpoints are not supported: %w", syscall.EAFNOSUPPORT)
	}
	if c.Remote.IsValid() && c.Remote.IsMulticast() && c.Lower == nil {
		// vxlan_config_validate: a group needs a device to join on.
		return nil, fmt.Errorf("vxlan: multicast group needs a device: %w", syscall.EINVAL)
	}
	if c.Local.IsValid() && c.Local.IsMulticast() {
		return nil, fmt.Errorf("vxlan: local address is multicast: %w", syscall.EINVAL)
	}
	if c.PortMax < c.PortMin {
		return nil, fmt.Errorf("vxlan: port range: %w", syscall.EINVAL)
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Ageing == 0 {
		c.Ageing = DefaultAgeing
	}
	if vn.find(c.Port, c.VNI, c.Local) != nil {
		// vxlan_vni_in_use: one device per (port, VNI, address family).
		return nil, fmt.Errorf("vxlan: VNI %d on port %d: %w", c.VNI, c.Port, syscall.EEXIST)
	}
	t := vn.devs
	mtu, maxMTU := 1500, 65535
	if c.Lower != nil {
		mtu = max(c.Lower.MTU()-Headroom, 68)
	}
	if c.MTU != 0 {
		if c.Lower != nil && c.MTU > c.Lower.MTU()-Headroom {
			return nil, fmt.Errorf("vxlan: MTU %d over the lower device's %d: %w", c.MTU, c.Lower.MTU()-Headroom, syscall.EINVAL)
		}
		mtu = c.MTU
	}
	v := &Dev{vn: vn, cfg: c, rx: skb.NewBatch(1)}
	d, err := t.Register(netdev.Config{
		Name: name, MTU: mtu, MinMTU: 68, MaxMTU: maxMTU,
		Addr: netdev.RandomMAC(t.Net().Exec().Rand()), Broadcast: netdev.BroadcastMAC,
		Type: netdev.ARPHRDEther, Flags: netdev.FlagBroadcast | netdev.FlagMulticast,
		TxQueueLen: 1000,
	}, v, 0)
	if err != nil {
		return nil, err
	}
	v.dev = d
	v.napi = netdev.NewNAPI(d)
	v.txq.init(d.TxQueueLen())
	v.txRun = t.Net().Exec().NewTimer(v.xmitQueued)
	v.age = t.Net().Exec().NewTimer(v.ageFDB)
	v.fdb.init(v.limit())
	if c.Remote.IsValid() {
		// The default destination is the all-zeros FDB entry.
		v.fdb.update(ZeroMAC, Remote{IP: c.Remote, Ifindex: v.lowerIndex()}, StatePermanent, flagAppendCreate, v.now())
	}
	vn.add(v)
	return v, nil
}

// Of returns the VXLAN state of d, or nil when d is not a VXLAN device.
func Of(d *netdev.Device) *Dev {
	v, _ := d.Driver().(*Dev)
	return v
}

// Device returns the netdev of v.
func (v *Dev) Device() *netdev.Device { return v.dev }

// Config returns the current configuration (ports and ageing with their
// defaults filled in, as the kernel reports them).
func (v *Dev) Config() Config { return v.cfg }

func (v *Dev) lowerIndex() int {
	if v.cfg.Lower != nil {
		return v.cfg.Lower.Ifindex()
	}
	return 0
}

func (v *Dev) limit() int {
	if v.cfg.Limit != 0 && int(v.cfg.Limit) < MaxFDB {
		return int(v.cfg.Limit)
	}
	return MaxFDB
}

func (v *Dev) now() time.Duration { return v.dev.Table().Net().Exec().Now() }

// Change applies a new configuration (vxlan_changelink). The VNI, ports,
// local address family and the UDP checksum flags cannot change, as in
// Linux (EOPNOTSUPP).
func (v *Dev) Change(c Config) error {
	o := v.cfg
	if c.Port == 0 {
		c.Port = o.Port
	}
	if c.Ageing == 0 {
		c.Ageing = DefaultAgeing
	}
	if c.VNI != o.VNI {
		return fmt.Errorf("Cannot change VNI: %w", syscall.EOPNOTSUPP)
	}
	if c.Port != o.Port || c.PortMin != o.PortMin || c.PortMax != o.PortMax {
		return fmt.Errorf("Cannot change port: %w", syscall.EOPNOTSUPP)
	}
	if c.Local != o.Local && v.dev.IsUp() {
		return fmt.Errorf("Cannot change local address while up: %w", syscall.EOPNOTSUPP)
	}
	if c.Remote.IsValid() && c.Remote.IsMulticast() && c.Lower == nil {
		return fmt.Errorf("vxlan: multicast group needs a device: %w", syscall.EINVAL)
	}
	if c.Remote != o.Remote {
		if c.Remote.IsValid() {
			v.fdb.update(ZeroMAC, Remote{IP: c.Remote, Ifindex: c.lowerIndex()}, StatePermanent, flagAppendCreate, v.now())
		}
		if o.Remote.IsValid() {
			v.fdb.delete(ZeroMAC, Remote{IP: o.Remote, Ifindex: v.lowerIndex()}, true)
		}
	}
	v.cfg = c
	v.fdb.limit = v.limit()
	return nil
}

func (c *Config) lowerIndex() int {
	if c.Lower != nil {
		return c.Lower.Ifindex()
	}
	return 0
}

// Kind is "vxlan".
func (*Dev) Kind() string { return "vxlan" }

// Open binds the UDP port (vxlan_open → vxlan_sock_add) and starts ageing.
func (v *Dev) Open(d *netdev.Device) error {
	s, err := v.vn.sockGet(v.cfg.Port)
	if err != nil {
		return err
	}
	v.sock = s
	s.vnis[v.cfg.VNI] = v
	v.age.Reset(ageInterval)
	return nil
}

// Stop releases the socket and flushes learned entries (vxlan_stop).
func (v *Dev) Stop(d *netdev.Device) {
	if v.sock != nil {
		delete(v.sock.vnis, v.cfg.VNI)
		v.vn.sockPut(v.sock)
		v.sock = nil
	}
	v.age.Stop()
	v.txRun.Stop()
	v.txq.purge()
	v.napi.Purge()
	v.fdb.flushDynamic()
}

// Uninit forgets the device (vxlan_uninit, vxlan_dellink).
func (v *Dev) Uninit(d *netdev.Device) {
	v.Stop(d)
	v.fdb.flushAll()
	v.vn.remove(v)
}

// ChangeMTU limits the MTU to what the lower device can carry
// (vxlan_change_mtu).
func (v *Dev) ChangeMTU(d *netdev.Device, mtu int) error {
	if v.cfg.Lower != nil && mtu > v.cfg.Lower.MTU()-Headroom {
		return syscall.EINVAL
	}
	return nil
}

// sock is a UDP tunnel socket shared by the devices of one port
// (struct vxlan_sock): VNI → device.
type sock struct {
	port uint16
	us   *udp.Sock
	refs int
	vnis map[uint32]*Dev
}
