package l2

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/capture"
	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/drivers/bond"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/iproute"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
	"github.com/usnet/usnet/tcp"
)

// bondPair is two namespaces joined by two veth pairs, bonded at both
// ends: a/bond0 (10.0.0.1) over a/eth0, a/eth1 and b/bond0 (10.0.0.2)
// over b/eth0, b/eth1.
type bondPair struct {
	s      *stack.Stack
	a, b   *stack.Namespace
	ba, bb *netdev.Device
	la, lb [2]*netdev.Device // slaves: la[i] is the peer of lb[i]
}

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
)

func newBondPair(t *testing.T, seed uint64, p bond.Params, delay time.Duration) *bondPair {
	t.Helper()
	s, err := stack.NewSim(seed)
	if err != nil {
		t.Fatal(err)
	}
	bp := &bondPair{s: s}
	if bp.a, err = s.Add("a"); err != nil {
		t.Fatal(err)
	}
	if bp.b, err = s.Add("b"); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"eth0", "eth1"} {
		x, y, err := veth.Create(veth.End{Table: bp.a.Dev, Name: name}, veth.End{Table: bp.b.Dev, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		bp.la[i], bp.lb[i] = x, y
		if delay > 0 {
			x.SetQdisc(sched.NewNetem(sched.NetemConfig{Delay: delay}, bp.a.Exec().Rand(), s.Pool()))
			y.SetQdisc(sched.NewNetem(sched.NetemConfig{Delay: delay}, bp.b.Exec().Rand(), s.Pool()))
		}
	}
	bp.ba = mkBond(t, bp.a, p, bp.la, netip.MustParsePrefix("10.0.0.1/24"))
	bp.bb = mkBond(t, bp.b, p, bp.lb, netip.MustParsePrefix("10.0.0.2/24"))
	s.Sim.RunFor(time.Second)
	return bp
}

// mkBond creates bond0 over the slaves and gives it an address; peer
// notifications after a failover reach ARP as NETDEV_NOTIFY_PEERS.
func mkBond(t *testing.T, ns *stack.Namespace, p bond.Params, slaves [2]*netdev.Device, pfx netip.Prefix) *netdev.Device {
	t.Helper()
	d, err := bond.New(ns.Dev, "bond0", p)
	if err != nil {
		t.Fatal(err)
	}
	b := bond.FromDevice(d)
	for _, s := range slaves {
		if err := b.Enslave(s); err != nil {
			t.Fatalf("enslave %s: %v", s.Name(), err)
		}
	}
	ns.Lo.Up()
	if err := d.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: pfx.Addr(), Prefix: pfx}); err != nil {
		t.Fatal(err)
	}
	return d
}

// countGARP counts gratuitous ARP requests for ip arriving on d.
func countGARP(d *netdev.Device, ip netip.Addr, n *int) {
	want := ip.As4()
	d.Table().AddTap(d, func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
		f := b.Bytes()
		if dir != netdev.DirIn || len(f) < 42 || binary.BigEndian.Uint16(f[12:14]) != 0x0806 {
			return
		}
		a := f[14:]
		if binary.BigEndian.Uint16(a[6:8]) == 1 && [4]byte(a[14:18]) == want && [4]byte(a[24:28]) == want {
			*n++
		}
	})
}

// tcpTransfer moves size bytes from a to b; cut runs once when the
// receiver has got cutAt bytes. It returns whether the hashes match.
func tcpTransfer(t *testing.T, bp *bondPair, size, cutAt int, cut func()) {
	t.Helper()
	sim := bp.s.Sim
	l, err := bp.b.TCP.Listen(netip.AddrPortFrom(addrB, 5001), 16)
	if err != nil {
		t.Fatal(err)
	}
	hr, hs := sha256.New(), sha256.New()
	received, done, cutDone := 0, false, false
	var srv *tcp.Conn
	buf := make([]byte, 64<<10)
	l.OnAcceptable = func() {
		srv = l.Accept()
		if srv == nil {
			return
		}
		srv.OnReadable = func() {
			for {
				n, eof, err := srv.Recv(buf)
				if err != nil {
					t.Errorf("receiver: %v", err)
					done = true
					return
				}
				hr.Write(buf[:n])
				received += n
				if !cutDone && received >= cutAt && cut != nil {
					cutDone = true
					cut()
				}
				if eof {
					srv.Close()
					done = true
					return
				}
				if n == 0 {
					return
				}
			}
		}
	}
	cli, err := bp.a.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(addrB, 5001))
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	chunk := make([]byte, 32<<10)
	cli.OnWritable = func() {
		for sent < size {
			n := min(len(chunk), size-sent)
			for i := range chunk[:n] {
				chunk[i] = byte((sent + i) * 2654435761 >> 13)
			}
			k, err := cli.Send(chunk[:n])
			if err != nil {
				t.Errorf("sender: %v", err)
				done = true
				return
			}
			hs.Write(chunk[:k])
			sent += k
			if k < n {
				return
			}
		}
		cli.CloseWrite()
	}
	start := sim.Now()
	sim.RunWhile(func() bool { return !done && sim.Now()-start < 10*time.Minute })
	if !done {
		t.Fatalf("transfer stuck: sent %d received %d of %d (client %v)", sent, received, size, cli.State())
	}
	if received != size || string(hr.Sum(nil)) != string(hs.Sum(nil)) {
		t.Fatalf("received %d of %d bytes, hashes equal %v", received, size, string(hr.Sum(nil)) == string(hs.Sum(nil)))
	}
	if cut != nil && !cutDone {
		t.Fatalf("the link was never cut")
	}
	t.Logf("%d bytes in %v simulated, %d retransmits", size, sim.Now()-start, cli.Info.Retransmits)
}

// TestBondActiveBackupFailover: a long TCP transfer survives cutting the
// active link; both bonds fail over to eth1 and announce it with a
// gratuitous ARP, and the connection completes byte-exact.
func TestBondActiveBackupFailover(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeActiveBackup
	p.Miimon = 100
	bp := newBondPair(t, 1, p, time.Millisecond)
	A, B := bond.FromDevice(bp.ba), bond.FromDevice(bp.bb)
	if A.ActiveSlave() != bp.la[0] || B.ActiveSlave() != bp.lb[0] {
		t.Fatalf("active slaves %v/%v, want eth0 on both", A.ActiveSlave(), B.ActiveSlave())
	}
	if bp.ba.Addr() != bp.la[0].Addr() || bp.la[1].Addr() != bp.ba.Addr() {
		t.Fatalf("bond MAC %s, slaves %s %s: want the first slave's everywhere", netdev.FormatMAC(bp.ba.Addr()), netdev.FormatMAC(bp.la[0].Addr()), netdev.FormatMAC(bp.la[1].Addr()))
	}
	if !bp.ba.Carrier() || bp.ba.Flags()&netdev.FlagMaster == 0 || bp.la[0].Flags()&netdev.FlagSlave == 0 {
		t.Fatalf("bond carrier %v flags %#x, slave flags %#x", bp.ba.Carrier(), bp.ba.Flags(), bp.la[0].Flags())
	}
	garpAtB, garpAtA := 0, 0
	countGARP(bp.lb[1], addrA, &garpAtB)
	countGARP(bp.la[1], addrB, &garpAtA)
	size := 16 << 20
	if testing.Short() {
		size = 4 << 20
	}
	// Cut eth0 from b's side: b/eth0 goes down, a/eth0 loses carrier.
	tcpTransfer(t, bp, size, size/3, func() { bp.lb[0].Down() })
	if A.ActiveSlave() != bp.la[1] || B.ActiveSlave() != bp.lb[1] {
		t.Fatalf("after the cut the active slaves are %v/%v, want eth1", A.ActiveSlave(), B.ActiveSlave())
	}
	if A.Stats.Failovers != 1 || B.Stats.Failovers != 1 {
		t.Fatalf("failovers a=%d b=%d, want 1 each", A.Stats.Failovers, B.Stats.Failovers)
	}
	if s := A.SlaveOf(bp.la[0]); s.Link() != bond.LinkDown || s.LinkFailureCount() != 1 || s.State() != bond.StateBackup {
		t.Fatalf("a/eth0 link %d failures %d state %d", s.Link(), s.LinkFailureCount(), s.State())
	}
	if garpAtB == 0 || garpAtA == 0 {
		t.Fatalf("gratuitous ARPs seen: at b %d, at a %d; want at least one each", garpAtB, garpAtA)
	}
	if !bp.ba.Carrier() {
		t.Fatal("bond lost carrier with one slave still up")
	}
	if live := bp.s.Pool().Live(); live < 0 {
		t.Fatalf("pool live %d", live)
	}
}

// TestBondNumGratARPAndDelays: num_grat_arp 3 sends three notifications
// one miimon apart; downdelay holds the failover back.
func TestBondNumGratARPAndDelays(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeActiveBackup
	p.Miimon = 100
	p.DownDelay = 3 // intervals: 300 ms
	p.NumPeerNotif = 3
	bp := newBondPair(t, 2, p, 0)
	A := bond.FromDevice(bp.ba)
	n0 := A.Stats.PeerNotifications
	bp.lb[0].Down()
	bp.s.Sim.RunFor(150 * time.Millisecond)
	if A.ActiveSlave() != bp.la[0] {
		t.Fatal("failed over before downdelay")
	}
	if s := A.SlaveOf(bp.la[0]); s.Link() != bond.LinkFail {
		t.Fatalf("a/eth0 link state %d, want FAIL (downdelay running)", s.Link())
	}
	bp.s.Sim.RunFor(time.Second)
	if A.ActiveSlave() != bp.la[1] {
		t.Fatal("no failover after downdelay")
	}
	if got := A.Stats.PeerNotifications - n0; got != 3 {
		t.Fatalf("%d peer notifications, want 3 (num_grat_arp)", got)
	}
	// The link comes back: it rejoins as a backup, the active stays.
	bp.lb[0].Up()
	bp.s.Sim.RunFor(time.Second)
	if s := A.SlaveOf(bp.la[0]); s.Link() != bond.LinkUp || s.State() != bond.StateBackup || A.ActiveSlave() != bp.la[1] {
		t.Fatalf("after recovery: eth0 link %d state %d, active %v", s.Link(), s.State(), A.ActiveSlave())
	}
}

// udpFlows sends one datagram from each of n source ports from a to b
// and returns how many frames each of a's slaves sent.
func udpFlows(t *testing.T, bp *bondPair, n int) [2]uint64 {
	t.Helper()
	rx := bp.b.UDP.NewSock()
	if err := rx.Bind(netip.AddrPortFrom(addrB, 9000)); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	var c [2]uint64
	var rm []func()
	for i := range bp.la {
		rm = append(rm, bp.a.Dev.AddTap(bp.la[i], func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
			if f := b.Bytes(); dir == netdev.DirOut && len(f) > 14 && binary.BigEndian.Uint16(f[12:14]) == 0x0800 {
				c[i]++
			}
		}))
	}
	defer func() {
		for _, f := range rm {
			f()
		}
	}()
	for i := 0; i < n; i++ {
		s := bp.a.UDP.NewSock()
		if err := s.Bind(netip.AddrPortFrom(addrA, uint16(20000+i))); err != nil {
			t.Fatal(err)
		}
		if err := s.SendTo([]byte("x"), netip.AddrPortFrom(addrB, 9000)); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		bp.s.Sim.RunFor(time.Millisecond)
	}
	bp.s.Sim.RunFor(100 * time.Millisecond)
	got := 0
	for {
		d, _, ok := rx.Recv()
		if !ok {
			break
		}
		d.Buf.Free()
		got++
	}
	if got != n {
		t.Fatalf("b received %d of %d datagrams", got, n)
	}
	return c
}

// TestBondBalanceXORLayer34: flows spread over both slaves by the
// layer3+4 hash, and each frame leaves by the slave the kernel's formula
// picks.
func TestBondBalanceXORLayer34(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeBalanceXOR
	p.Miimon = 100
	p.XmitHashPolicy = bond.HashLayer34
	bp := newBondPair(t, 3, p, 0)
	wrong := 0
	for i := range bp.la {
		bp.a.Dev.AddTap(bp.la[i], func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
			if dir == netdev.DirOut && int(bond.Hash(bond.HashLayer34, b.Bytes())%2) != i {
				wrong++
			}
		})
	}
	c := udpFlows(t, bp, 200)
	if wrong != 0 {
		t.Fatalf("%d frames left by a slave the hash did not choose", wrong)
	}
	if c[0] < 60 || c[1] < 60 {
		t.Fatalf("per-slave frames %v: layer3+4 should spread 200 flows", c)
	}
	t.Logf("per-slave frames for 200 flows: %v", c)
}

// TestBondBalanceXORLayer2: with layer2 all frames between two hosts use
// one slave.
func TestBondBalanceXORLayer2(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeBalanceXOR
	p.Miimon = 100
	bp := newBondPair(t, 4, p, 0)
	c := udpFlows(t, bp, 50)
	if c[0] != 0 && c[1] != 0 {
		t.Fatalf("per-slave frames %v: layer2 must keep one host pair on one slave", c)
	}
}

// TestBondRoundRobinAndBroadcast: balance-rr alternates slaves; broadcast
// sends every frame on both.
func TestBondRoundRobinAndBroadcast(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeBalanceRR
	p.Miimon = 100
	bp := newBondPair(t, 5, p, 0)
	c := udpFlows(t, bp, 40)
	if d := int(c[0]) - int(c[1]); d < -1 || d > 1 {
		t.Fatalf("balance-rr per-slave frames %v", c)
	}
	p.Mode = bond.ModeBroadcast
	bp = newBondPair(t, 6, p, 0)
	rx := bp.b.UDP.NewSock()
	rx.Bind(netip.AddrPortFrom(addrB, 9000))
	tx := bp.a.UDP.NewSock()
	tx.Bind(netip.AddrPortFrom(addrA, 0))
	tx.SendTo([]byte("y"), netip.AddrPortFrom(addrB, 9000)) // resolves b's MAC
	bp.s.Sim.RunFor(100 * time.Millisecond)
	before := [2]uint64{bp.la[0].Stats.TxPackets, bp.la[1].Stats.TxPackets}
	for i := 0; i < 10; i++ {
		tx.SendTo([]byte("y"), netip.AddrPortFrom(addrB, 9000))
	}
	bp.s.Sim.RunFor(100 * time.Millisecond)
	if d0, d1 := bp.la[0].Stats.TxPackets-before[0], bp.la[1].Stats.TxPackets-before[1]; d0 != 10 || d1 != 10 {
		t.Fatalf("broadcast sent %d/%d frames per slave, want 10/10", d0, d1)
	}
	got := 0
	for {
		d, _, ok := rx.Recv()
		if !ok {
			break
		}
		d.Buf.Free()
		got++
	}
	if got != 22 {
		t.Fatalf("b received %d datagrams, want 22 (each frame on both links)", got)
	}
}

// TestBond8023AD: two usnet bonds negotiate LACP over two links: both
// ports end up collecting and distributing in one aggregator whose
// partner is the other bond, traffic uses both links by the layer3+4
// hash, a TCP transfer completes, and tshark's lacp dissector reads the
// LACPDUs we sent.
func TestBond8023AD(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.Mode8023AD
	p.Miimon = 100
	p.LACPFast = 1
	p.XmitHashPolicy = bond.HashLayer34
	s, err := stack.NewSim(7)
	if err != nil {
		t.Fatal(err)
	}
	bp := &bondPair{s: s}
	bp.a, _ = s.Add("a")
	bp.b, _ = s.Add("b")
	for i, name := range []string{"eth0", "eth1"} {
		x, y, err := veth.Create(veth.End{Table: bp.a.Dev, Name: name}, veth.End{Table: bp.b.Dev, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		bp.la[i], bp.lb[i] = x, y
	}
	var pcap bytes.Buffer
	c, err := capture.Start(bp.la[0], &pcap, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bp.ba = mkBond(t, bp.a, p, bp.la, netip.MustParsePrefix("10.0.0.1/24"))
	bp.bb = mkBond(t, bp.b, p, bp.lb, netip.MustParsePrefix("10.0.0.2/24"))
	s.Sim.RunFor(10 * time.Second)
	A, B := bond.FromDevice(bp.ba), bond.FromDevice(bp.bb)
	const cd = bond.StateCollecting | bond.StateDistributing | bond.StateSynchronized
	for _, x := range []struct {
		b     *bond.Bond
		peer  *netdev.Device
		slave [2]*netdev.Device
	}{{A, bp.bb, bp.la}, {B, bp.ba, bp.lb}} {
		var aggs [2]uint16
		for i, d := range x.slave {
			sl := x.b.SlaveOf(d)
			agg, actor, partner, ok := sl.ADState()
			if !ok || actor&cd != cd || partner&cd != cd || sl.State() != bond.StateActive {
				t.Fatalf("%s/%s: agg %d actor %#x partner %#x state %d", d.Table().Net().Name(), d.Name(), agg, actor, partner, sl.State())
			}
			if sys, key := sl.PartnerSystem(); sys != x.peer.Addr() || key != 15 {
				t.Fatalf("%s: partner system %x key %d, want %x key 15", d.Name(), sys, key, x.peer.Addr())
			}
			aggs[i] = agg
		}
		if aggs[0] != aggs[1] {
			t.Fatalf("ports in aggregators %v, want one", aggs)
		}
		info, ok := x.b.ADInfo()
		if !ok || info.NumPorts != 2 || info.ActorKey != 15 || info.PartnerKey != 15 || info.PartnerMAC != x.peer.Addr() {
			t.Fatalf("ad_info %+v ok %v", info, ok)
		}
	}
	if !bp.ba.Carrier() || !bp.bb.Carrier() {
		t.Fatal("802.3ad bonds without carrier")
	}
	cnt := udpFlows(t, bp, 100)
	if cnt[0] == 0 || cnt[1] == 0 {
		t.Fatalf("per-slave frames %v: both links must carry flows", cnt)
	}
	t.Logf("per-slave frames for 100 flows: %v", cnt)
	tcpTransfer(t, bp, 4<<20, 0, nil)
	// Cutting one link leaves a one-port aggregator that still carries
	// traffic.
	bp.lb[1].Down()
	s.Sim.RunFor(5 * time.Second)
	if info, _ := A.ADInfo(); info.NumPorts != 1 || !bp.ba.Carrier() {
		t.Fatalf("after cutting eth1: ad_info %+v carrier %v", info, bp.ba.Carrier())
	}
	if cnt := udpFlows(t, bp, 20); cnt[1] != 0 || cnt[0] != 20 {
		t.Fatalf("after cutting eth1 frames per slave %v", cnt)
	}
	c.Stop()
	rx, tx := A.SlaveOf(bp.la[0]).LACPDUs()
	if rx == 0 || tx == 0 {
		t.Fatalf("LACPDUs rx %d tx %d", rx, tx)
	}
	checkLACPDUs(t, pcap.Bytes(), bp.ba.Addr(), bp.la[0].Addr())
}

// checkLACPDUs runs tshark's lacp dissector over the capture: every
// LACPDU decodes without malformed-packet errors, with our actor system,
// key 15 and a port number, and the last ones show the partner in sync.
func checkLACPDUs(t *testing.T, pcap []byte, system [6]byte, src [6]byte) {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: LACPDU dissection not checked")
	}
	f := filepath.Join(t.TempDir(), "lacp.pcapng")
	if err := os.WriteFile(f, pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", f, "-Y", "lacp", "-T", "fields", "-E", "separator=|",
		"-e", "eth.src", "-e", "lacp.actor.sysid", "-e", "lacp.actor.key", "-e", "lacp.actor.port",
		"-e", "lacp.actor.state", "-e", "lacp.partner.sysid", "-e", "lacp.partner.key",
		"-e", "lacp.partner.state", "-e", "_ws.malformed", "-e", "_ws.expert").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("tshark decoded %d LACPDUs:\n%s", len(lines), out)
	}
	var last []string
	for _, l := range lines {
		fl := strings.Split(l, "|")
		if len(fl) < 10 {
			t.Fatalf("tshark line %q", l)
		}
		if fl[8] != "" || fl[9] != "" {
			t.Fatalf("malformed LACPDU or expert info: %q", l)
		}
		if fl[0] != netdev.FormatMAC(src) {
			// The peer's LACPDUs, received on a/eth0: decoded, not ours.
			continue
		}
		if fl[1] != netdev.FormatMAC(system) || fl[2] != "15" || fl[3] == "" || fl[3] == "0" {
			t.Fatalf("LACPDU actor fields %q, want system %s key 15", l, netdev.FormatMAC(system))
		}
		last = fl
	}
	if last == nil {
		t.Fatal("no LACPDU sent by a/eth0 in the capture")
	}
	// The last state we sent: active, short timeout, aggregating,
	// in sync, collecting, distributing (0x3f).
	if last[4] != "0x3f" && last[4] != "0x0000003f" && last[4] != "63" {
		t.Fatalf("last actor state %q, want 0x3f", last[4])
	}
	t.Logf("tshark decoded %d LACPDUs; last from a/eth0: %q", len(lines), last)
}

// ipRun runs one `usnet ip` command against the daemon's namespace ns.
func ipRun(t *testing.T, path, ns string, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	dial := func(name string) (iproute.Transport, error) { return daemon.Dial(path, name) }
	code := iproute.Run(append([]string{"-n", ns}, args...), iproute.Options{Stdout: &out, Stderr: &errb, Dial: dial})
	return out.String() + errb.String(), code
}

// TestBondUsnetIP drives a real-time usnet daemon with `usnet ip`: create
// a bond with options, enslave a veth, show it with -d in text and JSON,
// and see the kernel's refusal to change the mode with slaves.
func TestBondUsnetIP(t *testing.T) {
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := daemon.Listen(filepath.Join(t.TempDir(), "usnet.sock"), st)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()
	const ns = "bondip"
	if err := daemon.NetnsAdd(srv.Path(), ns); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{
		{"link", "add", "veth0", "type", "veth", "peer", "name", "veth1"},
		{"link", "add", "bond0", "type", "bond", "mode", "active-backup", "miimon", "100", "num_grat_arp", "2"},
		{"link", "set", "veth0", "master", "bond0"},
		{"link", "set", "veth1", "up"},
		{"link", "set", "bond0", "up"},
	} {
		if out, code := ipRun(t, srv.Path(), ns, c...); code != 0 {
			t.Fatalf("ip %v: exit %d: %s", c, code, out)
		}
	}
	// Wait (real time) for the carrier and a miimon tick to make veth0
	// the active slave.
	deadline := time.Now().Add(5 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out, _ = ipRun(t, srv.Path(), ns, "-d", "link", "show", "bond0")
		if strings.Contains(out, "active_slave") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"<BROADCAST,MULTICAST,MASTER,UP,LOWER_UP>",
		"\n    bond mode active-backup active_slave veth0 ",
		" miimon 100 updelay 0 downdelay 0 peer_notify_delay 0 use_carrier 1 arp_interval 0 arp_missed_max 2 arp_validate none arp_all_targets any primary_reselect always fail_over_mac none xmit_hash_policy layer2 resend_igmp 1 num_grat_arp 2 all_slaves_active 0 min_links 0 lp_interval 1 packets_per_slave 1 lacp_active on lacp_rate slow ad_select stable tlb_dynamic_lb 1 ",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("ip -d link show bond0:\n%s\nlacks %q", out, want)
		}
	}
	t.Logf("ip -d link show bond0:\n%s", out)
	out, _ = ipRun(t, srv.Path(), ns, "-d", "link", "show", "veth0")
	t.Logf("ip -d link show veth0:\n%s", out)
	if !strings.Contains(out, "SLAVE") || !strings.Contains(out, "master bond0") || !strings.Contains(out, "\n    bond_slave state ACTIVE mii_status UP link_failure_count 0 perm_hwaddr ") {
		t.Fatalf("ip -d link show veth0:\n%s", out)
	}
	out, _ = ipRun(t, srv.Path(), ns, "-d", "-j", "link", "show", "veth0")
	if !strings.Contains(out, `"info_slave_kind":"bond","info_slave_data":{"state":"ACTIVE","mii_status":"UP","link_failure_count":0,"perm_hwaddr":`) {
		t.Fatalf("ip -d -j link show veth0:\n%s", out)
	}
	out, code := ipRun(t, srv.Path(), ns, "link", "set", "bond0", "type", "bond", "mode", "balance-rr")
	if code != 2 || !strings.Contains(out, "Error: unable to set option because the bond device has slaves.") {
		t.Fatalf("mode change with a slave: exit %d: %s", code, out)
	}
	if out, code := ipRun(t, srv.Path(), ns, "link", "del", "bond0"); code != 0 {
		t.Fatalf("ip link del bond0: %d %s", code, out)
	}
	out, _ = ipRun(t, srv.Path(), ns, "link", "show", "veth0")
	if strings.Contains(out, "master") || strings.Contains(out, "SLAVE") {
		t.Fatalf("veth0 after the bond's deletion:\n%s", out)
	}
}

// TestBond8023ADSlowAndPartnerLoss: with lacp_rate slow the ports
// negotiate with long timeouts (state 0x3d); when the partner goes
// silent, the ports expire after the long timeout, then default, and the
// bond falls back to one port of an aggregator without a partner, as
// ad_agg_selection_logic enables it.
func TestBond8023ADSlowAndPartnerLoss(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.Mode8023AD
	bp := newBondPair(t, 8, p, 0)
	bp.s.Sim.RunFor(10 * time.Second)
	A := bond.FromDevice(bp.ba)
	for _, d := range bp.la {
		_, actor, partner, ok := A.SlaveOf(d).ADState()
		if !ok || actor != 0x3d || partner != 0x3d {
			t.Fatalf("%s: actor %#x partner %#x, want 0x3d (slow, in sync, collecting, distributing)", d.Name(), actor, partner)
		}
	}
	rx0, _ := A.SlaveOf(bp.la[0]).LACPDUs()
	bp.s.Sim.RunFor(60 * time.Second)
	if rx, _ := A.SlaveOf(bp.la[0]).LACPDUs(); rx-rx0 > 4 {
		t.Fatalf("%d LACPDUs in 60 s at the slow rate (one per 30 s expected)", rx-rx0)
	}
	bp.bb.Down() // the partner stops speaking LACP
	bp.s.Sim.RunFor(80 * time.Second)
	if _, actor, _, _ := A.SlaveOf(bp.la[0]).ADState(); actor&bond.StateDefaulted != 0 {
		t.Fatalf("defaulted before the 90 s long timeout: %#x", actor)
	}
	bp.s.Sim.RunFor(20 * time.Second)
	info, ok := A.ADInfo()
	if !ok || info.PartnerMAC != ([6]byte{}) || info.NumPorts != 1 || !bp.ba.Carrier() {
		t.Fatalf("after partner loss: ad_info %+v ok %v carrier %v", info, ok, bp.ba.Carrier())
	}
	for _, d := range bp.la {
		if _, actor, _, _ := A.SlaveOf(d).ADState(); actor&bond.StateDefaulted == 0 {
			t.Fatalf("%s not defaulted: %#x", d.Name(), actor)
		}
	}
}
