package iproute

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// linkFlagNames is the order iproute2 lists IFF_* flags in.
var linkFlagNames = []struct {
	bit  uint32
	name string
}{
	{unix.IFF_LOOPBACK, "LOOPBACK"}, {unix.IFF_BROADCAST, "BROADCAST"},
	{unix.IFF_POINTOPOINT, "POINTOPOINT"}, {unix.IFF_MULTICAST, "MULTICAST"},
	{unix.IFF_NOARP, "NOARP"}, {unix.IFF_ALLMULTI, "ALLMULTI"}, {unix.IFF_PROMISC, "PROMISC"},
	{unix.IFF_MASTER, "MASTER"}, {unix.IFF_SLAVE, "SLAVE"}, {unix.IFF_DEBUG, "DEBUG"},
	{unix.IFF_DYNAMIC, "DYNAMIC"}, {unix.IFF_AUTOMEDIA, "AUTOMEDIA"}, {unix.IFF_PORTSEL, "PORTSEL"},
	{unix.IFF_NOTRAILERS, "NOTRAILERS"}, {unix.IFF_UP, "UP"}, {unix.IFF_LOWER_UP, "LOWER_UP"},
	{unix.IFF_DORMANT, "DORMANT"}, {unix.IFF_ECHO, "ECHO"},
}

func (s *session) printLinkFlags(flags uint32, mdown bool) {
	p := s.out
	p.textRaw("<")
	p.openArray("flags")
	first := true
	word := func(w string) {
		if !first {
			p.textRaw(",")
		}
		first = false
		p.str(anyOut, "", "%s", w)
	}
	if flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING == 0 {
		word("NO-CARRIER")
	}
	flags &^= unix.IFF_RUNNING
	for _, f := range linkFlagNames {
		if flags&f.bit != 0 {
			flags &^= f.bit
			word(f.name)
		}
	}
	if flags != 0 {
		word(fmt.Sprintf("%x", flags))
	}
	if mdown {
		word("M-DOWN")
	}
	p.closeArray()
	p.textRaw("> ")
}

func unknownAttr(u []rtmsg.RawAttr, t uint16) ([]byte, bool) {
	for _, a := range u {
		if a.Type&^uint16(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER) == t {
			return a.Data, true
		}
	}
	return nil, false
}

// printLink prints a link's header lines (print_linkinfo); doLink is
// true for `ip link` (mode, stats) and false for `ip addr` and monitor;
// showQueue prints qlen (listings, not notifications).
func (s *session) printLink(l *rtmsg.Link, doLink, showQueue bool) {
	p := s.out
	p.uint(anyOut, "ifindex", "%d: ", uint64(uint32(l.Index)))
	// The name and the @link suffix; JSON puts "link" before "ifname".
	suffix := ""
	mdown := false
	if l.Attrs.Has(unix.IFLA_LINK) {
		switch {
		case l.Attrs.Has(unix.IFLA_LINK_NETNSID):
			p.uint(jsonOnly, "link_index", "", uint64(l.Link))
			suffix = fmt.Sprintf("@if%d", l.Link)
		case l.Link == 0:
			p.null(jsonOnly, "link", "")
			suffix = "@NONE"
		default:
			name := s.ifname(int32(l.Link))
			p.str(jsonOnly, "link", "", name)
			suffix = "@" + name
			if pl, ok := s.links[int32(l.Link)]; ok && pl.Flags&unix.IFF_UP == 0 {
				mdown = true
			}
		}
	}
	p.str(jsonOnly, "ifname", "", l.Name)
	p.text("%s%s: ", l.Name, suffix)
	s.printLinkFlags(l.Flags, mdown)
	if l.Attrs.Has(unix.IFLA_MTU) {
		p.uint(anyOut, "mtu", "mtu %d ", uint64(l.MTU))
	}
	if l.Attrs.Has(unix.IFLA_QDISC) {
		p.str(anyOut, "qdisc", "qdisc %s ", l.Qdisc)
	}
	if l.Attrs.Has(unix.IFLA_MASTER) {
		p.str(anyOut, "master", "master %s ", s.ifname(int32(l.Master)))
	}
	if l.Attrs.Has(unix.IFLA_OPERSTATE) {
		p.str(anyOut, "operstate", "state %s ", operName(l.OperState))
	}
	if doLink && l.Attrs.Has(unix.IFLA_LINKMODE) {
		m := "DEFAULT"
		switch l.LinkMode {
		case 0:
		case 1:
			m = "DORMANT"
		default:
			m = strconv.Itoa(int(l.LinkMode))
		}
		p.str(anyOut, "linkmode", "mode %s ", m)
	}
	if l.Attrs.Has(unix.IFLA_GROUP) {
		g := "default"
		if l.Group != 0 {
			g = strconv.FormatUint(uint64(l.Group), 10)
		}
		p.str(anyOut, "group", "group %s ", g)
	}
	if showQueue && l.TxQLen != 0 {
		p.uint(anyOut, "txqlen", "qlen %d", uint64(l.TxQLen))
	}
	p.textRaw("\n")
	// The link layer line only when not listing one address family.
	if doLink || s.family == 0 || s.family == unix.AF_PACKET || s.details {
		p.str(anyOut, "link_type", "    link/%s ", arphrdName(l.Type))
		if l.Attrs.Has(unix.IFLA_ADDRESS) {
			p.str(anyOut, "address", "%s", formatMAC(l.Address))
		}
		if l.Attrs.Has(unix.IFLA_BROADCAST) {
			if l.Flags&unix.IFF_POINTOPOINT != 0 {
				p.str(anyOut, "link_pointtopoint", " peer %s", formatMAC(l.Broadcast))
			} else {
				p.str(anyOut, "broadcast", " brd %s", formatMAC(l.Broadcast))
			}
		}
		if l.Attrs.Has(unix.IFLA_LINK_NETNSID) {
			// iproute2 names the namespace in text only.
			id := l.LinkNetNSID
			if p.json {
				p.int(jsonOnly, "link_netnsid", "", int64(id))
			} else if id < 0 {
				p.text(" link-netnsid unknown")
			} else if name, ok := s.netnsName(id); ok {
				p.text(" link-netns %s", name)
			} else {
				p.text(" link-netnsid %d", id)
			}
		}
		// A device moving away (its RTM_DELLINK): text only.
		if b, ok := unknownAttr(l.Unknown, unix.IFLA_NEW_NETNSID); ok && len(b) == 4 {
			id := int32(binary.NativeEndian.Uint32(b))
			if name, ok := s.netnsName(id); ok {
				p.text(" new-netns %s", name)
			} else {
				p.text(" new-netnsid %d", id)
			}
		}
		if b, ok := unknownAttr(l.Unknown, unix.IFLA_NEW_IFINDEX); ok && len(b) == 4 {
			p.text(" new-ifindex %d", int32(binary.NativeEndian.Uint32(b)))
		}
		if s.details {
			s.printLinkDetails(l, doLink)
		}
		p.textRaw("\n")
	}
	if doLink && l.Attrs.Has(unix.IFLA_IFALIAS) {
		p.str(anyOut, "ifalias", "    alias %s\n", l.Alias)
	}
	if doLink && s.stats > 0 && l.Stats64 != nil {
		s.printStats(l.Stats64, l)
	}
}

func (s *session) printLinkDetails(l *rtmsg.Link, doLink bool) {
	p := s.out
	p.uint(anyOut, "promiscuity", " promiscuity %d ", uint64(l.Promiscuity))
	if l.Attrs.Has(unix.IFLA_ALLMULTI) {
		p.uint(anyOut, "allmulti", " allmulti %d ", uint64(l.AllMulti))
	}
	if l.Attrs.Has(unix.IFLA_MIN_MTU) {
		p.uint(anyOut, "min_mtu", "minmtu %d ", uint64(l.MinMTU))
	}
	if l.Attrs.Has(unix.IFLA_MAX_MTU) {
		p.uint(anyOut, "max_mtu", "maxmtu %d ", uint64(l.MaxMTU))
	}
	if li := l.Info; li != nil {
		p.openObject("linkinfo")
		if li.Kind != "" {
			p.str(anyOut, "info_kind", "\n    %s ", li.Kind)
			if ops := lookupKind(li.Kind); ops != nil && ops.print != nil && li.Data != nil {
				p.openObject("info_data")
				ops.print(p, li.Data)
				p.closeObject()
			}
		}
		if li.SlaveKind != "" {
			p.str(anyOut, "info_slave_kind", "\n    %s_slave ", li.SlaveKind)
			if ops := lookupKind(li.SlaveKind + "_slave"); ops != nil && ops.print != nil && li.SlaveData != nil {
				p.openObject("info_slave_data")
				ops.print(p, li.SlaveData)
				p.closeObject()
			}
		}
		p.closeObject()
	}
	if doLink && l.AFSpec != nil {
		s.printAFSpec(l.AFSpec)
	}
	u32 := func(t uint16, key, format string) {
		if b, ok := unknownAttr(l.Unknown, t); ok && len(b) == 4 {
			p.uint(anyOut, key, format, uint64(nativeU32(b)))
		}
	}
	if l.Attrs.Has(unix.IFLA_NUM_TX_QUEUES) {
		p.uint(anyOut, "num_tx_queues", "numtxqueues %d ", uint64(l.NumTxQueues))
	}
	if l.Attrs.Has(unix.IFLA_NUM_RX_QUEUES) {
		p.uint(anyOut, "num_rx_queues", "numrxqueues %d ", uint64(l.NumRxQueues))
	}
	if l.Attrs.Has(unix.IFLA_GSO_MAX_SIZE) {
		p.uint(anyOut, "gso_max_size", "gso_max_size %d ", uint64(l.GSOMaxSize))
	}
	if l.Attrs.Has(unix.IFLA_GSO_MAX_SEGS) {
		p.uint(anyOut, "gso_max_segs", "gso_max_segs %d ", uint64(l.GSOMaxSegs))
	}
	u32(iflaTSOMaxSize, "tso_max_size", "tso_max_size %d ")
	u32(iflaTSOMaxSegs, "tso_max_segs", "tso_max_segs %d ")
	if l.Attrs.Has(unix.IFLA_GRO_MAX_SIZE) {
		p.uint(anyOut, "gro_max_size", "gro_max_size %d ", uint64(l.GROMaxSize))
	}
	if b, ok := unknownAttr(l.Unknown, iflaParentDevBusName); ok {
		p.str(anyOut, "parentbus", "parentbus %s ", netlink.String(b))
	}
	if b, ok := unknownAttr(l.Unknown, iflaParentDevName); ok {
		p.str(anyOut, "parentdev", "parentdev %s ", netlink.String(b))
	}
}

// printAFSpec prints the IPv6 address generation mode from IFLA_AF_SPEC.
func (s *session) printAFSpec(b []byte) {
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		if d.Type() != unix.AF_INET6 {
			continue
		}
		n, err := d.Nested()
		if err != nil {
			return
		}
		for n.Next() {
			if n.Type() != unix.IFLA_INET6_ADDR_GEN_MODE || len(n.Bytes()) < 1 {
				continue
			}
			var m string
			switch n.Bytes()[0] {
			case 0:
				m = "eui64"
			case 1:
				m = "none"
			case 2:
				m = "stable_secret"
			case 3:
				m = "random"
			default:
				m = fmt.Sprintf("%#.2x", n.Bytes()[0])
			}
			s.out.str(anyOut, "inet6_addr_gen_mode", "addrgenmode %s ", m)
		}
	}
}

type statField struct {
	key string
	v   uint64
}

func (s *session) printStats(st *rtmsg.LinkStats64, l *rtmsg.Link) {
	p := s.out
	extended := s.stats > 1
	if p.json {
		fields := func(base []statField, comp uint64, ext []statField) {
			for _, f := range base {
				p.uint(jsonOnly, f.key, "", f.v)
			}
			if comp != 0 {
				p.uint(jsonOnly, "compressed", "", comp)
			}
			if extended {
				for _, f := range ext {
					p.uint(jsonOnly, f.key, "", f.v)
				}
			}
		}
		p.openObject("stats64")
		p.openObject("rx")
		fields([]statField{{"bytes", st.RxBytes}, {"packets", st.RxPackets}, {"errors", st.RxErrors},
			{"dropped", st.RxDropped}, {"over_errors", st.RxOverErrors}, {"multicast", st.Multicast}},
			st.RxCompressed,
			[]statField{{"length_errors", st.RxLengthErrors}, {"crc_errors", st.RxCRCErrors},
				{"frame_errors", st.RxFrameErrors}, {"fifo_errors", st.RxFIFOErrors}, {"missed_errors", st.RxMissedErrors}})
		if extended && st.RxNoHandler != 0 {
			p.uint(jsonOnly, "nohandler", "", st.RxNoHandler)
		}
		p.closeObject()
		p.openObject("tx")
		txExt := []statField{{"aborted_errors", st.TxAbortedErrors}, {"fifo_errors", st.TxFIFOErrors},
			{"window_errors", st.TxWindowErrors}, {"heartbeat_errors", st.TxHeartbeatErrors}}
		if l.Attrs.Has(unix.IFLA_CARRIER_CHANGES) {
			txExt = append(txExt, statField{"carrier_changes", uint64(l.CarrierChanges)})
		}
		fields([]statField{{"bytes", st.TxBytes}, {"packets", st.TxPackets}, {"errors", st.TxErrors},
			{"dropped", st.TxDropped}, {"carrier_errors", st.TxCarrierErrors}, {"collisions", st.Collisions}},
			st.TxCompressed, txExt)
		p.closeObject()
		p.closeObject()
		return
	}
	rx := []uint64{st.RxBytes, st.RxPackets, st.RxErrors, st.RxDropped, st.RxMissedErrors, st.Multicast}
	tx := []uint64{st.TxBytes, st.TxPackets, st.TxErrors, st.TxDropped, st.TxCarrierErrors, st.Collisions}
	// Error rows: the first value spans the bytes and packets columns.
	rxErr := []uint64{st.RxLengthErrors, st.RxCRCErrors, st.RxFrameErrors, st.RxFIFOErrors, st.RxOverErrors}
	txErr := []uint64{st.TxAbortedErrors, st.TxFIFOErrors, st.TxWindowErrors, st.TxHeartbeatErrors, uint64(l.CarrierChanges)}
	cols := []int{len("RX:  bytes"), len("packets"), len("errors"), len("dropped"), len("carrier"), len("collsns")}
	width := func(v uint64) int { return len(strconv.FormatUint(v, 10)) }
	for i := range cols {
		cols[i] = max(cols[i], width(rx[i]), width(tx[i]))
	}
	if extended {
		for i := 1; i < 5; i++ {
			cols[i+1] = max(cols[i+1], width(rxErr[i]), width(txErr[i]))
		}
	}
	comp := len("compressed")
	header := func(dir string, names [5]string, c string) {
		p.text("    %s: %*s %*s %*s %*s %*s %*s %*s\n", dir, cols[0]-4, "bytes", cols[1], names[0], cols[2], names[1],
			cols[3], names[2], cols[4], names[3], cols[5], names[4], comp, c)
	}
	values := func(v []uint64, c uint64) {
		p.textRaw("    ")
		for i, x := range v {
			p.text("%*d ", cols[i], x)
		}
		if c != 0 {
			p.text("%*d ", comp, c)
		}
		p.textRaw("\n")
	}
	errRows := func(dir string, names [5]string, v []uint64) {
		w0 := cols[0] + 1 + cols[1]
		p.text("    %s errors: %*s", dir, w0-len(dir+" errors: "), names[0])
		for i := 1; i < 5; i++ {
			p.text(" %*s", cols[i+1], names[i])
		}
		p.textRaw("\n    ")
		p.text("%*d ", w0, v[0])
		for i := 1; i < 5; i++ {
			p.text("%*d ", cols[i+1], v[i])
		}
		p.textRaw("\n")
	}
	rc, tc := "", ""
	if st.RxCompressed != 0 {
		rc = "compressed"
	}
	if st.TxCompressed != 0 {
		tc = "compressed"
	}
	header("RX", [5]string{"packets", "errors", "dropped", "missed", "mcast"}, rc)
	values(rx, st.RxCompressed)
	if extended {
		errRows("RX", [5]string{"length", "crc", "frame", "fifo", "overrun"}, rxErr)
	}
	header("TX", [5]string{"packets", "errors", "dropped", "carrier", "collsns"}, tc)
	values(tx, st.TxCompressed)
	if extended {
		errRows("TX", [5]string{"aborted", "fifo", "window", "heartbt", "transns"}, txErr)
	}
}
