package netdev

// Stats64 are a device's counters, with the fields and meaning of Linux's
// struct rtnl_link_stats64 (include/uapi/linux/if_link.h).
type Stats64 struct {
	RxPackets, TxPackets  uint64
	RxBytes, TxBytes      uint64
	RxErrors, TxErrors    uint64
	RxDropped, TxDropped  uint64
	Multicast, Collisions uint64
	RxLengthErrors        uint64
	RxOverErrors          uint64
	RxCRCErrors           uint64
	RxFrameErrors         uint64
	RxFIFOErrors          uint64
	RxMissedErrors        uint64
	TxAbortedErrors       uint64
	TxCarrierErrors       uint64
	TxFIFOErrors          uint64
	TxHeartbeatErrors     uint64
	TxWindowErrors        uint64
	RxCompressed          uint64
	TxCompressed          uint64
	RxNoHandler           uint64
	RxOtherhostDropped    uint64
}
