// dumbbell.cc: the ns-3 peer of usnet's simulation dumbbell benchmark.
// N sender/receiver pairs on 1 Gb/s, 1 ms access links share one
// 100 Mb/s, 10 ms bottleneck with a 100-packet drop-tail queue; each
// sender runs one TCP bulk transfer for the simulated time. Prints one
// JSON object: simulated seconds, wall seconds spent in Simulator::Run,
// and bytes delivered.
#include <chrono>
#include <cstdio>

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

using namespace ns3;

int main(int argc, char *argv[]) {
  uint32_t pairs = 10;
  double simTime = 10.0;
  uint32_t seed = 1;
  CommandLine cmd;
  cmd.AddValue("pairs", "sender/receiver pairs", pairs);
  cmd.AddValue("time", "simulated seconds", simTime);
  cmd.AddValue("seed", "RNG run number", seed);
  cmd.Parse(argc, argv);
  if (pairs == 0 || pairs > 250) {
    std::fprintf(stderr, "pairs must be 1..250\n");
    return 2;
  }
  RngSeedManager::SetSeed(1);
  RngSeedManager::SetRun(seed);
  Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));

  NodeContainer routers, left, right;
  routers.Create(2);
  left.Create(pairs);
  right.Create(pairs);
  InternetStackHelper internet;
  internet.InstallAll();

  PointToPointHelper access;
  access.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
  access.SetChannelAttribute("Delay", StringValue("1ms"));
  PointToPointHelper bottleneck;
  bottleneck.SetDeviceAttribute("DataRate", StringValue("100Mbps"));
  bottleneck.SetChannelAttribute("Delay", StringValue("10ms"));
  bottleneck.SetQueue("ns3::DropTailQueue", "MaxSize", StringValue("100p"));

  Ipv4AddressHelper addr;
  NetDeviceContainer bd = bottleneck.Install(routers.Get(0), routers.Get(1));
  addr.SetBase("10.0.0.0", "255.255.255.252");
  addr.Assign(bd);
  // The device's 100-packet drop-tail queue is the bottleneck queue:
  // remove the queue disc that address assignment installs by default.
  TrafficControlHelper tch;
  tch.Uninstall(bd);

  std::vector<Ipv4Address> dst(pairs);
  for (uint32_t i = 0; i < pairs; i++) {
    char base[32];
    NetDeviceContainer l = access.Install(left.Get(i), routers.Get(0));
    std::snprintf(base, sizeof base, "10.1.%u.0", i);
    addr.SetBase(base, "255.255.255.0");
    addr.Assign(l);
    NetDeviceContainer r = access.Install(right.Get(i), routers.Get(1));
    std::snprintf(base, sizeof base, "10.2.%u.0", i);
    addr.SetBase(base, "255.255.255.0");
    dst[i] = addr.Assign(r).GetAddress(0);
  }
  Ipv4GlobalRoutingHelper::PopulateRoutingTables();

  ApplicationContainer sinks;
  for (uint32_t i = 0; i < pairs; i++) {
    BulkSendHelper src("ns3::TcpSocketFactory", InetSocketAddress(dst[i], 9));
    src.SetAttribute("MaxBytes", UintegerValue(0));
    ApplicationContainer a = src.Install(left.Get(i));
    a.Start(Seconds(0.0));
    a.Stop(Seconds(simTime));
    PacketSinkHelper sink("ns3::TcpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), 9));
    sinks.Add(sink.Install(right.Get(i)));
  }
  sinks.Start(Seconds(0.0));

  Simulator::Stop(Seconds(simTime));
  auto t0 = std::chrono::steady_clock::now();
  Simulator::Run();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t rx = 0;
  for (uint32_t i = 0; i < sinks.GetN(); i++) {
    rx += DynamicCast<PacketSink>(sinks.Get(i))->GetTotalRx();
  }
  Simulator::Destroy();
  std::printf("{\"sim_seconds\": %g, \"wall_seconds\": %g, \"rx_bytes\": %llu}\n", simTime, wall,
              (unsigned long long)rx);
  return 0;
}
