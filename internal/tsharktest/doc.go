// Package tsharktest lets tests hand a capture file to tshark, the
// independent judge of whether usnet's packets are well formed. Its one
// job is running tshark and turning what it says into test failures or
// decoded values.
//
// Check dissects the whole file with IPv4, TCP and UDP checksum
// validation switched on (Wireshark leaves it off by default; ICMP
// checksums it always checks) and fails the test on any malformed
// packet, bad checksum or expert error. Expert warnings other than
// checksum ones are allowed: TCP analysis warns about retransmissions
// and lost segments, which are real events in a lossy scenario, not
// encoding bugs. Fields returns chosen fields per packet so tests can
// assert decoded values.
//
// tshark runs with name resolution off (-n), so it never looks anything
// up on the network, and with an empty personal configuration directory,
// so a developer's Wireshark preferences cannot change the verdict. When
// tshark is not installed the tests skip. The warning tshark prints when
// run as root is ignored.
package tsharktest
