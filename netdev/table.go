package netdev

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/usnet/usnet/netns"
	"github.com/usnet/usnet/skb"
)

// Event is a netdevice notifier event (NETDEV_*).
type Event int

// Events, in the order a device lives through them.
const (
	EventRegister Event = iota
	EventUp
	EventChange // flags, carrier, operstate, txqlen, alias, group
	EventChangeMTU
	EventChangeAddr
	EventChangeName
	EventChangeUpper
	EventGoingDown
	EventDown
	EventUnregister
	// EventNotifyPeers asks the protocols to announce the device's
	// addresses to its link (NETDEV_NOTIFY_PEERS: gratuitous ARP after a
	// bond failover or a migration).
	EventNotifyPeers
	// EventRxFlags: the promiscuity count changed. Linux has no notifier
	// event for it, but __dev_set_promiscuity announces the device with
	// an RTM_NEWLINK every time (dev: always advertise rx_flags changes
	// via netlink); rtnetlink sends that on this event.
	EventRxFlags
	// EventFeatChange: the device's features changed (NETDEV_FEAT_CHANGE).
	EventFeatChange
)

var eventNames = [...]string{"REGISTER", "UP", "CHANGE", "CHANGEMTU", "CHANGEADDR", "CHANGENAME", "CHANGEUPPER", "GOING_DOWN", "DOWN", "UNREGISTER", "NOTIFY_PEERS", "RX_FLAGS", "FEAT_CHANGE"}

func (e Event) String() string { return eventNames[e] }

// Notifier receives device events (register_netdevice_notifier).
type Notifier func(ev Event, d *Device)

// Table is the set of devices of one namespace, with the protocol handlers
// and taps that receive from them. Executor only.
type Table struct {
	net       *netns.Net
	byIndex   map[int]*Device
	byName    map[string]*Device
	lastIndex int
	notifiers []Notifier
	protos    []protoEntry
	taps      []*tap
	// lw holds the devices waiting for the next linkwatch run, each at
	// most once (Device.lwPending), so it is bounded by the table;
	// lwPosted: the run (lwRun) is posted to the executor. lwSpare is
	// the list of the previous run, reused.
	lw, lwSpare []*Device
	lwPosted    bool
	lwRun       func()
	// MaxDevices bounds the table (every table has a bound).
	MaxDevices int
}

// Attach creates the device table of n and arranges for its devices to
// be torn down with it. Call on n's executor.
func Attach(n *netns.Net) *Table {
	t := &Table{net: n, byIndex: map[int]*Device{}, byName: map[string]*Device{}, MaxDevices: 1 << 16}
	t.lwRun = t.runLinkwatch
	n.OnExit(t.destroy)
	return t
}

// Net returns the namespace.
func (t *Table) Net() *netns.Net { return t.net }

// Pool returns the namespace's packet-buffer pool.
func (t *Table) Pool() *skb.Pool { return t.net.Pool() }

// Subscribe adds a notifier. It is told of later events only.
func (t *Table) Subscribe(f Notifier) { t.notifiers = append(t.notifiers, f) }

func (t *Table) notify(ev Event, d *Device) {
	for _, f := range t.notifiers {
		f(ev, d)
	}
}

// ByIndex returns the device with that ifindex, or nil.
func (t *Table) ByIndex(i int) *Device { return t.byIndex[i] }

// ByName returns the device with that name, or nil.
func (t *Table) ByName(name string) *Device { return t.byName[name] }

// Devices returns the devices in ifindex order (the order of a link dump).
func (t *Table) Devices() []*Device {
	l := make([]*Device, 0, len(t.byIndex))
	for _, d := range t.byIndex {
		l = append(l, d)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].ifindex < l[j].ifindex })
	return l
}

// Len returns the number of devices.
func (t *Table) Len() int { return len(t.byIndex) }

// ValidName checks an interface name as dev_valid_name does: 1 to 15
// bytes, not "." or "..", no '/', ':' or white space.
func ValidName(name string) error {
	if name == "" || len(name) >= 16 || name == "." || name == ".." {
		return fmt.Errorf("invalid interface name %q: %w", name, syscall.EINVAL)
	}
	for _, c := range []byte(name) {
		if c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0 {
			return fmt.Errorf("invalid interface name %q: %w", name, syscall.EINVAL)
		}
	}
	return nil
}

// resolveName expands a "%d" template to the lowest unused number
// (dev_alloc_name) and checks the result.
func (t *Table) resolveName(name string) (string, error) {
	if strings.Count(name, "%") > 0 {
		i := strings.Index(name, "%d")
		if i < 0 || strings.Count(name, "%") != 1 {
			return "", fmt.Errorf("invalid interface name template %q: %w", name, syscall.EINVAL)
		}
		for n := 0; n < 32768; n++ {
			c := name[:i] + strconv.Itoa(n) + name[i+2:]
			if t.byName[c] == nil {
				return c, ValidName(c)
			}
		}
		return "", fmt.Errorf("no free name for %q: %w", name, syscall.ENFILE)
	}
	if err := ValidName(name); err != nil {
		return "", err
	}
	if t.byName[name] != nil {
		return "", fmt.Errorf("device %q exists: %w", name, syscall.EEXIST)
	}
	return name, nil
}

// nextIndex returns the lowest ifindex above the last one handed out that
// is free (dev_new_index), or want if that is given and free.
func (t *Table) nextIndex(want int) (int, error) {
	if want > 0 {
		if t.byIndex[want] != nil {
			return 0, fmt.Errorf("ifindex %d in use: %w", want, syscall.EBUSY)
		}
		return want, nil
	}
	for i := t.lastIndex + 1; ; i++ {
		if i <= 0 {
			i = 1
		}
		if t.byIndex[i] == nil {
			t.lastIndex = i
			return i, nil
		}
	}
}

// Register creates a device of driver drv in this table
// (register_netdevice). ifindex 0 picks the next free one.
func (t *Table) Register(c Config, drv Driver, ifindex int) (*Device, error) {
	if len(t.byIndex) >= t.MaxDevices {
		return nil, fmt.Errorf("too many devices: %w", syscall.ENOBUFS)
	}
	name, err := t.resolveName(c.Name)
	if err != nil {
		return nil, err
	}
	if c.MaxMTU == 0 {
		c.MaxMTU = 65535
	}
	if c.MTU < c.MinMTU || c.MTU > c.MaxMTU {
		return nil, fmt.Errorf("mtu %d out of range: %w", c.MTU, syscall.EINVAL)
	}
	idx, err := t.nextIndex(ifindex)
	if err != nil {
		return nil, err
	}
	d := &Device{
		table: t, ifindex: idx, name: name, drv: drv, typ: c.Type,
		mtu: c.MTU, minMTU: c.MinMTU, maxMTU: c.MaxMTU,
		addr: c.Addr, broadcast: c.Broadcast,
		flags: c.Flags &^ (FlagUp | FlagRunning | FlagLowerUp), oper: OperUnknown,
		managesCarrier: c.ManagesCarrier, carrier: !c.ManagesCarrier || c.CarrierOn,
		txQueueLen: c.TxQueueLen, features: c.Features,
		numTxQ: max(c.NumTxQueues, 1), numRxQ: max(c.NumRxQueues, 1),
		xmitBatch: skb.NewBatch(64),
	}
	d.watchdog.init(d)
	// linkwatch_init_dev: the policy runs at registration only for a
	// device without carrier; one with carrier stays UNKNOWN.
	d.refreshFlags()
	if !d.carrier {
		d.rfc2863()
	}
	t.insert(d)
	t.notify(EventRegister, d)
	return d, nil
}

func (t *Table) insert(d *Device) {
	d.table = t
	t.byIndex[d.ifindex] = d
	t.byName[d.name] = d
}

func (t *Table) remove(d *Device) {
	delete(t.byIndex, d.ifindex)
	delete(t.byName, d.name)
}

// Unregister takes the device down and removes it (unregister_netdevice);
// taps on it end and its slaves are released.
func (t *Table) Unregister(d *Device) {
	if t.byIndex[d.ifindex] != d {
		return
	}
	d.Down()
	for _, s := range t.byIndex {
		if s.master == d {
			s.SetMaster(nil)
		}
	}
	t.notify(EventUnregister, d)
	t.removeTaps(d)
	t.remove(d)
	t.forgetLinkwatch(d)
	d.SetQdisc(nil)
	d.drv.Uninit(d)
}

// Rename changes a device's name; Linux refuses while the device is up
// (EBUSY).
func (t *Table) Rename(d *Device, name string) error {
	if name == d.name {
		return nil
	}
	if d.IsUp() {
		return fmt.Errorf("rename %s: %w", d.name, syscall.EBUSY)
	}
	n, err := t.resolveName(name)
	if err != nil {
		return err
	}
	delete(t.byName, d.name)
	d.name = n
	t.byName[n] = d
	t.notify(EventChangeName, d)
	return nil
}

// Move moves a device into another namespace's table
// (dev_change_net_namespace): it is taken down and unregistered where it
// is, then registered in dst under the same name and, if free, the same
// ifindex. A name taken in dst is refused with EEXIST before anything
// changes. Call it from outside any executor (it uses Do on both).
func Move(d *Device, dst *Table) error {
	src := d.table
	if dst == src {
		return nil
	}
	var err error
	dst.net.Exec().Do(func() {
		if dst.byName[d.name] != nil {
			err = fmt.Errorf("device %q exists in namespace %q: %w", d.name, dst.net.Name(), syscall.EEXIST)
		}
	})
	if err != nil {
		return err
	}
	src.net.Exec().Do(func() {
		if src.byIndex[d.ifindex] != d {
			err = fmt.Errorf("device %q is gone: %w", d.name, syscall.ENODEV)
			return
		}
		d.Down()
		src.notify(EventUnregister, d)
		src.removeTaps(d)
		src.remove(d)
		src.forgetLinkwatch(d)
		d.master = nil
		d.activated = false // dev_shutdown
		// From here d belongs to dst: what touches it before dst's
		// executor inserts it (a linkwatch event its driver posts there)
		// is filed with dst, on dst's executor.
		if l, ok := d.drv.(NetnsLeaver); ok {
			l.LeavingNetns(d, dst)
		}
		d.table = dst
	})
	if err != nil {
		return err
	}
	dst.net.Exec().Do(func() {
		if dst.byName[d.name] != nil { // raced with a create: fall back
			d.name, _ = dst.resolveName("dev%d")
		}
		if dst.byIndex[d.ifindex] != nil {
			d.ifindex, _ = dst.nextIndex(0)
		}
		dst.insert(d)
		if m, ok := d.drv.(NetnsMover); ok {
			m.MovedNetns(d)
		}
		d.watchdog.init(d)
		dst.notify(EventRegister, d)
	})
	return nil
}

func (t *Table) destroy() {
	for _, d := range t.Devices() {
		t.Unregister(d)
	}
}
