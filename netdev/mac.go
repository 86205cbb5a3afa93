package netdev

import (
	"fmt"
	"math/rand/v2"
)

// BroadcastMAC is ff:ff:ff:ff:ff:ff.
var BroadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// RandomMAC returns a random locally administered unicast address
// (eth_random_addr), drawn from the namespace's random source so that
// simulations repeat.
func RandomMAC(r *rand.Rand) [6]byte {
	var a [6]byte
	v := r.Uint64()
	for i := range a {
		a[i] = byte(v >> (8 * i))
	}
	a[0] &^= 0x01 // unicast
	a[0] |= 0x02  // locally administered
	return a
}

// FormatMAC prints a hardware address as ip link does.
func FormatMAC(a [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5])
}
