package netdev

import "golang.org/x/sys/unix"

// Flags are the interface flags of Linux (IFF_*), as ip link prints them.
type Flags uint32

// The flags usnet uses; values from golang.org/x/sys/unix.
const (
	FlagUp            Flags = unix.IFF_UP
	FlagBroadcast     Flags = unix.IFF_BROADCAST
	FlagLoopback      Flags = unix.IFF_LOOPBACK
	FlagPointToPt     Flags = unix.IFF_POINTOPOINT
	FlagRunning       Flags = unix.IFF_RUNNING
	FlagNoARP         Flags = unix.IFF_NOARP
	FlagPromisc       Flags = unix.IFF_PROMISC
	FlagAllMulti      Flags = unix.IFF_ALLMULTI
	FlagMaster        Flags = unix.IFF_MASTER
	FlagSlave         Flags = unix.IFF_SLAVE
	FlagMulticast     Flags = unix.IFF_MULTICAST
	FlagLowerUp       Flags = unix.IFF_LOWER_UP
	FlagDormant       Flags = unix.IFF_DORMANT
	FlagEcho          Flags = unix.IFF_ECHO
	flagsUserSettable       = FlagUp | FlagNoARP | FlagPromisc | FlagAllMulti | FlagMulticast | FlagDormant
)

// OperState is the RFC 2863 operational state as Linux reports it
// (IF_OPER_*).
type OperState uint8

// Operational states.
const (
	OperUnknown        OperState = 0
	OperNotPresent     OperState = 1
	OperDown           OperState = 2
	OperLowerLayerDown OperState = 3
	OperTesting        OperState = 4
	OperDormant        OperState = 5
	OperUp             OperState = 6
)

var operNames = [...]string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

// String returns the name ip link prints.
func (s OperState) String() string {
	if int(s) < len(operNames) {
		return operNames[s]
	}
	return "UNKNOWN"
}
