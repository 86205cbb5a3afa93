// Package framedio moves batches of layer-2 frames between usnet and
// whatever lies outside it — host TAP devices, packet sockets, virtual
// machines, tests — through one interface, Port, modelled on illumos'
// framed I/O (frameio_t, from the vnd driver).
//
// One call reads or writes several frames. A FrameIO describes them as a
// flat array of vectors, VecsPerFrame of them per frame, each vector a
// buffer with the bytes actually used (fv_buf, fv_buflen, fv_actlen), so a
// frame may be split over several buffers: usnet reads into the tailroom
// of a small packet buffer and spills only large frames into a second
// vector. Optional per-frame Meta carries checksum and segmentation
// offload (the fields of struct virtio_net_hdr), so 64 KiB GSO frames
// cross the boundary unsplit when both sides can.
//
// Every Port has bounded receive and transmit buffers measured in bytes
// (rxbuf and txbuf, settable, never above MaxBuf), and the caller chooses
// the flow control of each call: NonBlock returns ErrWouldBlock when
// nothing can move, Block waits. Nothing is dropped silently: Stats counts
// drops and flow-control events.
//
// Pair returns two connected in-memory ports (for tests and for programs
// that embed usnet and exchange frames with it). NewDevice turns any Port
// into a usnet network device: a backend goroutine reads batches and hands
// them to the device's NAPI queue; transmit writes without blocking the
// executor, dropping and counting what does not fit in txbuf. The host
// backends (drivers/tap, drivers/afpacket) are Ports bridged the same way.
package framedio
