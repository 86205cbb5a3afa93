// Package drivers groups usnet's device kinds, one package each, as Linux's
// drivers/net: loopback, veth, dummy, and later bridge, vlan, macvlan,
// ipvlan, vxlan, bond and the host backends. A kind is a netdev.Driver plus
// a constructor that registers devices through netdev.Table.Register; see
// docs/architecture.md, "Adding a device kind".
package drivers
