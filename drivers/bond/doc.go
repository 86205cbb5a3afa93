// Package bond is the bonding device (drivers/net/bonding): one logical
// link made of several Ethernet slaves. It implements the modes
// balance-rr, active-backup, balance-xor (with the kernel's layer2,
// layer2+3 and layer3+4 transmit hashes), broadcast and 802.3ad with LACP
// (IEEE 802.1AX), MII link monitoring (miimon, updelay, downdelay) with
// failover, and peer notification (gratuitous ARP) after a failover.
//
// Everything runs on the executor of the namespace that holds the bond
// and its slaves: the slaves' receive hooks (netdev.RxHandler), the
// transmit path, the miimon and LACP timers. Nothing blocks and the
// per-packet paths allocate nothing.
package bond
