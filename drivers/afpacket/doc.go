// Package afpacket is a usnet Ethernet device bound to an existing host
// interface through a packet socket (AF_PACKET, SOCK_RAW, ETH_P_ALL), the
// way illumos' vnd binds to a datalink: usnet gets the interface's frames
// and sends its own, with its own MAC address (the interface is put in
// promiscuous mode for the socket's lifetime).
//
// Receive uses a TPACKET_V3 ring: the kernel fills mmap'd blocks of
// frames and retires them; the backend goroutine copies whole blocks'
// worth of frames per wakeup into usnet's buffers and hands them to the
// device's NAPI queue. The ring's size is the device's rxbuf: frames that
// arrive while it is full are dropped by the kernel, which counts them
// (PACKET_STATISTICS), and usnet reports them as rx_missed_errors.
// Transmit batches frames into one sendmmsg. PACKET_IGNORE_OUTGOING keeps
// usnet from seeing its own frames again; PACKET_VNET_HDR carries checksum
// and GSO state both ways, so large segments cross unsplit.
//
// Mode Exclusive refuses (EBUSY) an interface that has IP addresses: the
// host stack would answer for them too (vnd's rule). Shared allows it.
// The socket lives in the network namespace of the calling thread; use
// framedio.InNetns to open one inside another kernel namespace.
package afpacket
