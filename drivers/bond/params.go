package bond

import (
	"net/netip"
	"time"
)

// Mode is the bonding mode (BOND_MODE_*, the value of IFLA_BOND_MODE).
type Mode uint8

// Bonding modes, numbered as Linux numbers them.
const (
	ModeBalanceRR Mode = iota
	ModeActiveBackup
	ModeBalanceXOR
	ModeBroadcast
	Mode8023AD
	ModeBalanceTLB
	ModeBalanceALB
)

var modeNames = [...]string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "UNKNOWN"
}

// usesARP reports whether the mode may use the ARP monitor
// (bond_mode_uses_arp); the others need miimon.
func (m Mode) usesARP() bool { return m != Mode8023AD && m != ModeBalanceTLB && m != ModeBalanceALB }

// HashPolicy is xmit_hash_policy (BOND_XMIT_POLICY_*).
type HashPolicy uint8

// Transmit hash policies, numbered as Linux numbers them.
const (
	HashLayer2 HashPolicy = iota
	HashLayer34
	HashLayer23
	HashEncap23
	HashEncap34
	HashVLANSrcMAC
)

// Slave link states (BOND_LINK_*), IFLA_BOND_SLAVE_MII_STATUS.
const (
	LinkUp   uint8 = 0
	LinkFail uint8 = 1 // going down, downdelay running
	LinkDown uint8 = 2
	LinkBack uint8 = 3 // coming up, updelay running
)

// Slave states (BOND_STATE_*), IFLA_BOND_SLAVE_STATE.
const (
	StateActive uint8 = 0
	StateBackup uint8 = 1
)

// DefaultMiimon is BOND_DEFAULT_MIIMON, forced on for the modes that
// cannot use the ARP monitor.
const DefaultMiimon = 100

// BondMaxARPTargets is BOND_MAX_ARP_TARGETS.
const BondMaxARPTargets = 16

// MaxSlaves bounds a bond's slave list.
const MaxSlaves = 64

// Params are the bond's options (struct bond_params). Delays are kept in
// units of the miimon interval, as Linux keeps them; the accessors and
// rtnetlink report milliseconds.
type Params struct {
	Mode            Mode
	Miimon          uint32 // ms, 0: no MII monitoring
	UpDelay         uint32 // miimon intervals
	DownDelay       uint32 // miimon intervals
	PeerNotifDelay  uint32 // miimon intervals
	UseCarrier      uint8
	ARPInterval     uint32
	ARPValidate     uint32
	ARPAllTargets   uint32
	ARPTargets      []netip.Addr // arp_ip_target (kept, not monitored)
	MissedMax       uint8
	PrimaryReselect uint8
	FailOverMAC     uint8
	XmitHashPolicy  HashPolicy
	ResendIGMP      uint32
	NumPeerNotif    uint8
	AllSlavesActive uint8
	MinLinks        uint32
	LPInterval      uint32
	PacketsPerSlave uint32
	LACPActive      uint8
	LACPFast        uint8 // lacp_rate: 0 slow, 1 fast
	ADSelect        uint8 // 0 stable, 1 bandwidth, 2 count
	ADActorSysPrio  uint16
	ADUserPortKey   uint16
	ADActorSystem   [6]byte
	TLBDynamicLB    uint8
	CoupledControl  uint8
}

// DefaultParams are the options of a bond created without any (the
// kernel's bonding_defaults with the module's default parameters).
func DefaultParams() Params {
	return Params{
		UseCarrier: 1, MissedMax: 2, ResendIGMP: 1, NumPeerNotif: 1,
		LPInterval: 1, PacketsPerSlave: 1, LACPActive: 1,
		ADActorSysPrio: 65535, TLBDynamicLB: 1, CoupledControl: 1,
	}
}

func (p *Params) miiInterval() time.Duration { return time.Duration(p.Miimon) * time.Millisecond }
