package ipv4

// Stats are the IPv4 and ICMP SNMP counters (/proc/net/snmp "Ip:" and
// "Icmp:" lines), named as there.
type Stats struct {
	InReceives, InHdrErrors, InAddrErrors, ForwDatagrams uint64
	InUnknownProtos, InDiscards, InDelivers              uint64
	OutRequests, OutDiscards, OutNoRoutes                uint64
	ReasmTimeout, ReasmReqds, ReasmOKs, ReasmFails       uint64
	FragOKs, FragFails, FragCreates                      uint64
	InTruncatedPkts, InMartians, OutTransmits            uint64

	IcmpInMsgs, IcmpInErrors, IcmpOutMsgs, IcmpOutErrors       uint64
	IcmpInEchos, IcmpInEchoReps, IcmpOutEchos, IcmpOutEchoReps uint64
	IcmpInDestUnreachs, IcmpOutDestUnreachs, IcmpOutTimeExcds  uint64
	IcmpInTimeExcds, IcmpOutParmProbs, IcmpOutRateLimitGlobal  uint64
	IcmpOutRateLimitHost                                       uint64
}
