package host

import (
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/afpacket"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// BenchmarkAFPacketRx measures small-frame receive over AF_PACKET: a Go
// sender floods 60-byte frames with sendmmsg into one end of a kernel
// veth, usnet receives on the other through its TPACKET_V3 ring. It
// reports frames delivered to the protocol handler per second and the
// share the kernel or usnet dropped.
func BenchmarkAFPacketRx(b *testing.B) {
	needRoot(b)
	kns, path := vethNS(b, "bench")
	ns := usnetNS(b)
	var got int
	ns.Exec().Do(func() {
		ns.Dev.AddProtocol(0x88b5, func(_ *netdev.Device, bt *skb.Batch) { got += bt.Len(); bt.Free() })
	})
	dev := afDevice(b, ns, path, afpacket.Config{HostIf: "vb", Mode: afpacket.Exclusive, RxBuf: 8 << 20}, 0)
	n := max(b.N, 100000)
	b.ResetTimer()
	start := time.Now()
	sent := flood(b, path, dev.Addr(), n) - int(vethDrops(b, kns))
	var s netdev.Stats64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if s = stats(ns, dev); s.RxPackets+s.RxDropped+s.RxMissedErrors >= uint64(sent) {
			break
		}
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(s.RxPackets)/el.Seconds(), "rx-pps")
	b.ReportMetric(float64(s.RxDropped+s.RxMissedErrors)/float64(sent)*100, "%dropped")
}

// BenchmarkTapTxGSO measures usnet -> kernel throughput over the TAP with
// 64 KiB UDP GSO frames (checksum and segmentation left to the kernel),
// counting the bytes a UDP socket in the kernel namespace receives.
func BenchmarkTapTxGSO(b *testing.B) {
	needRoot(b)
	kns, path := kernelNS(b, "tbench")
	ns := usnetNS(b)
	dev, err := tapNew(ns, path)
	if err != nil {
		b.Fatal(err)
	}
	up(b, ns, dev)
	sh(b, "ip", "-n", kns, "link", "set", "utap0", "up")
	sh(b, "ip", "-n", kns, "addr", "add", "10.99.0.1/24", "dev", "utap0")
	pc := listenUDP(b, path, 9999)
	var kmac [6]byte
	copy(kmac[:], hostMAC(b, kns))
	const mss, segs = 1400, 46 // 64400 bytes of payload per frame
	frame := udpFrame(kmac, dev.Addr(), 9999, mss*segs)
	received := make(chan int64)
	go func() {
		var total int64
		buf := make([]byte, 65536)
		for {
			pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				received <- total
				return
			}
			total += int64(n)
		}
	}()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += 16 {
		ns.Exec().Do(func() {
			bt := skb.NewBatch(16)
			for range min(16, b.N-i) {
				bf := ns.Dev.Pool().GetData(frame)
				bf.Csum, bf.CsumStart, bf.CsumOffset = skb.CsumPartial, bf.Pos()+34, 6
				bf.GSOSize, bf.GSOType = mss, skb.GSOUDP
				bt.Add(bf)
			}
			dev.Xmit(bt)
		})
	}
	el := time.Since(start)
	total := <-received
	b.StopTimer()
	b.ReportMetric(float64(total)*8/el.Seconds()/1e9, "Gb/s-delivered")
	b.ReportMetric(float64(b.N)*float64(len(frame))*8/el.Seconds()/1e9, "Gb/s-offered")
}
