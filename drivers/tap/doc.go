// Package tap is a usnet Ethernet device backed by a host TAP interface
// (Linux's drivers/net/tun.c seen from user space): what usnet transmits
// the host kernel receives on the TAP interface, and what the kernel sends
// out of it usnet receives.
//
// The TAP is opened with IFF_VNET_HDR and offloads (TUN_F_CSUM,
// TUN_F_TSO4, TUN_F_TSO6), so every frame carries a struct virtio_net_hdr:
// the kernel may hand usnet 64 KiB GSO frames with unfinished checksums
// and accepts the same from usnet, which keeps the per-frame cost off
// bulk transfers. The device is a framedio port bridged into netdev: one
// backend goroutine reads batches (the fd is non-blocking; it reads until
// EAGAIN and then waits in Go's poller) and hands them to the device's
// NAPI queue; transmit writes with writev from the executor without
// blocking, and counts a drop when the kernel's send buffer is full.
package tap
