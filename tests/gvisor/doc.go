// Package gvinterop tests usnet against gVisor's netstack in one process.
// It is its own Go module so that gVisor never becomes a dependency of
// usnet itself.
//
// Port is the link between the two: a framedio.Port whose far side is a
// gVisor channel endpoint wrapped in Ethernet framing, so a usnet device
// (framedio.NewDevice) and a gVisor NIC exchange real Ethernet frames, ARP
// included, with real checksums both ways (no offloads cross the link).
package gvinterop
