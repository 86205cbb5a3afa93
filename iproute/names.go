package iproute

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The name tables iproute2 6.1 uses when /etc/iproute2 adds nothing.

var rtProtos = map[uint8]string{
	0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static",
	8: "gated", 9: "ra", 10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted",
	14: "xorp", 15: "ntk", 16: "dhcp", 18: "keepalived", 42: "babel",
	99: "openr", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip", 192: "eigrp",
}

var rtScopes = map[uint8]string{0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}

var rtTables = map[uint32]string{0: "unspec", 253: "default", 254: "main", 255: "local"}

var rtTypes = []string{
	unix.RTN_UNSPEC: "none", unix.RTN_UNICAST: "unicast", unix.RTN_LOCAL: "local",
	unix.RTN_BROADCAST: "broadcast", unix.RTN_ANYCAST: "anycast", unix.RTN_MULTICAST: "multicast",
	unix.RTN_BLACKHOLE: "blackhole", unix.RTN_UNREACHABLE: "unreachable",
	unix.RTN_PROHIBIT: "prohibit", unix.RTN_THROW: "throw", unix.RTN_NAT: "nat",
	unix.RTN_XRESOLVE: "xresolve",
}

var ipProtos = map[uint8]string{
	1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 33: "dccp", 41: "ipv6", 47: "gre",
	50: "esp", 51: "ah", 58: "ipv6-icmp", 132: "sctp", 136: "udplite",
}

func protoName(p uint8) string {
	if s, ok := rtProtos[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

func scopeName(s uint8) string {
	if n, ok := rtScopes[s]; ok {
		return n
	}
	return strconv.Itoa(int(s))
}

func tableName(t uint32) string {
	if n, ok := rtTables[t]; ok {
		return n
	}
	return strconv.FormatUint(uint64(t), 10)
}

func typeName(t uint8) string {
	if int(t) < len(rtTypes) {
		return rtTypes[t]
	}
	return strconv.Itoa(int(t))
}

func ipProtoName(p uint8) string {
	if s, ok := ipProtos[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// parseU parses an unsigned number the way iproute2's get_unsigned does
// (strtoul base 0: decimal, 0x hex, leading-zero octal).
func parseU(s string, bits int) (uint64, bool) {
	v, err := strconv.ParseUint(s, 0, bits)
	if err != nil {
		return 0, false
	}
	return v, true
}

func lookupName[K comparable](m map[K]string, s string) (K, bool) {
	for k, v := range m {
		if v == s {
			return k, true
		}
	}
	var zero K
	return zero, false
}

func parseProto(s string) (uint8, bool) {
	if v, ok := lookupName(rtProtos, s); ok {
		return v, true
	}
	v, ok := parseU(s, 8)
	return uint8(v), ok
}

func parseScope(s string) (uint8, bool) {
	if v, ok := lookupName(rtScopes, s); ok {
		return v, true
	}
	if s == "universe" {
		return 0, true
	}
	v, ok := parseU(s, 8)
	return uint8(v), ok
}

func parseTable(s string) (uint32, bool) {
	if v, ok := lookupName(rtTables, s); ok {
		return v, true
	}
	if s == "all" {
		return 0, true
	}
	v, ok := parseU(s, 32)
	return uint32(v), ok
}

func parseRouteType(s string) (uint8, bool) {
	for i, n := range rtTypes {
		if n == s && i != 0 {
			return uint8(i), true
		}
	}
	return 0, false
}

func parseIPProto(s string) (uint8, bool) {
	if v, ok := lookupName(ipProtos, s); ok {
		return v, true
	}
	if s == "icmpv6" {
		return 58, true
	}
	v, ok := parseU(s, 8)
	return uint8(v), ok
}

var operStates = []string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

func operName(s uint8) string {
	if int(s) < len(operStates) {
		return operStates[s]
	}
	return fmt.Sprintf("%#x", s)
}

var arphrdNames = map[uint16]string{
	unix.ARPHRD_ETHER: "ether", unix.ARPHRD_LOOPBACK: "loopback", unix.ARPHRD_NONE: "none",
	unix.ARPHRD_SIT: "sit", unix.ARPHRD_TUNNEL: "ipip", unix.ARPHRD_IPGRE: "gre",
	unix.ARPHRD_TUNNEL6: "tunnel6", unix.ARPHRD_IEEE80211: "ieee802.11", unix.ARPHRD_VOID: "void",
}

func arphrdName(t uint16) string {
	if s, ok := arphrdNames[t]; ok {
		return s
	}
	return fmt.Sprintf("[%d]", t)
}

var nudNames = []struct {
	v    uint16
	name string
}{
	{unix.NUD_INCOMPLETE, "INCOMPLETE"}, {unix.NUD_REACHABLE, "REACHABLE"},
	{unix.NUD_STALE, "STALE"}, {unix.NUD_DELAY, "DELAY"}, {unix.NUD_PROBE, "PROBE"},
	{unix.NUD_FAILED, "FAILED"}, {unix.NUD_NOARP, "NOARP"}, {unix.NUD_PERMANENT, "PERMANENT"},
}

func parseNud(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	for _, n := range nudNames {
		if n.name == u {
			return n.v, true
		}
	}
	switch s {
	case "none":
		return unix.NUD_NONE, true
	case "all":
		return 0xff, true
	case "noarp":
		return unix.NUD_NOARP, true
	}
	v, ok := parseU(s, 8)
	return uint16(v), ok
}

// formatMAC prints a hardware address as iproute2's ll_addr_n2a does.
func formatMAC(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// parseMAC parses colon-separated hex bytes (ll_addr_a2n).
func parseMAC(s string) ([]byte, bool) {
	parts := strings.Split(s, ":")
	if len(parts) > 32 {
		return nil, false
	}
	out := make([]byte, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || p == "" {
			return nil, false
		}
		out = append(out, byte(v))
	}
	return out, true
}
