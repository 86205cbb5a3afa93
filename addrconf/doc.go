// Package addrconf keeps the per-device IPv6 settings that Linux reports
// for every device even while IPv6 is disabled on it (the part of struct
// inet6_dev that rtnetlink shows in IFLA_AF_SPEC/AF_INET6): today the
// address generation mode (`ip link set DEV addrgenmode MODE`).
//
// usnet has no IPv6 layer yet, so every device behaves as a Linux device
// with net.ipv6.conf.DEV.disable_ipv6=1: no addresses are generated and
// the mode is only kept and reported. Settings live per namespace
// (netns.Net.Generic) and per device, and die with the device or its move
// to another namespace, as an inet6_dev does. Executor only.
package addrconf
