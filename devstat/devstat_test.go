package devstat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/iproute"
	"github.com/usnet/usnet/netlink/rtmsg"
)

func TestRates(t *testing.T) {
	prev := []Sample{{Name: "eth0", Index: 2, Stats: rtmsg.LinkStats64{RxBytes: 1000, RxPackets: 10, TxDropped: 1}}}
	cur := []Sample{
		{Name: "eth0", Index: 2, Stats: rtmsg.LinkStats64{RxBytes: 3000, RxPackets: 30, TxBytes: 500, TxPackets: 5, TxDropped: 4, RxMissedErrors: 2}},
		{Name: "new0", Index: 3, Stats: rtmsg.LinkStats64{TxBytes: 100}},
	}
	cur[0].FlowCtl, prev[0].FlowCtl, cur[1].FlowCtl = 7, 2, -1
	rows := Rates(prev, cur, 2*time.Second)
	if rows[0].FlowCtl != 5 || rows[1].FlowCtl != -1 {
		t.Fatalf("flow-control deltas %d %d", rows[0].FlowCtl, rows[1].FlowCtl)
	}
	r := rows[0]
	if r.RxBps != 1000 || r.RxPps != 10 || r.TxBps != 250 || r.TxPps != 2.5 || r.TxDrops != 3 || r.RxDrops != 2 {
		t.Fatalf("eth0 %+v", r)
	}
	if rows[1].TxBps != 50 {
		t.Fatalf("new device measured from zero: %+v", rows[1])
	}
	var out bytes.Buffer
	Print(&out, rows, true)
	var back []Row
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || len(back) != 2 {
		t.Fatalf("json %s: %v", out.String(), err)
	}
	out.Reset()
	Print(&out, rows, false)
	if !strings.Contains(out.String(), "eth0") || !strings.Contains(out.String(), "1.0K") {
		t.Fatalf("table:\n%s", out.String())
	}
}

// TestFirstReportIsARate: devices that moved a lot before the command
// started do not show their lifetime totals as the first interval's rate.
func TestFirstReportIsARate(t *testing.T) {
	var clock time.Time
	bytes := uint64(1 << 30) // moved before usnet stat started
	s := sampler{
		collect: func() ([]Sample, error) {
			bytes += 1000
			return []Sample{{Name: "v0", Index: 2, FlowCtl: -1, Stats: rtmsg.LinkStats64{RxBytes: bytes}}}, nil
		},
		now:   func() time.Time { return clock },
		sleep: func(d time.Duration) { clock = clock.Add(d) },
	}
	var out strings.Builder
	if err := s.run(500*time.Millisecond, 3, true, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d reports, want 3:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		var rows []Row
		if err := json.Unmarshal([]byte(l), &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].RxBps != 2000 {
			t.Fatalf("report %d: %s, want 2000 rx B/s", i, l)
		}
	}
}

// TestCollectKernel reads a kernel namespace's counters while the kernel
// moves traffic over a veth pair in it.
func TestCollectKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a kernel network namespace")
	}
	ns := fmt.Sprintf("usnet-stat-%d", os.Getpid())
	sh := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	sh("ip", "netns", "add", ns)
	defer exec.Command("ip", "netns", "del", ns).Run()
	sh("ip", "-n", ns, "link", "add", "sta", "type", "veth", "peer", "name", "stb")
	sh("ip", "-n", ns, "addr", "add", "10.77.0.1/24", "dev", "sta")
	sh("ip", "-n", ns, "link", "set", "sta", "up")
	sh("ip", "-n", ns, "link", "set", "stb", "up")
	tr, err := iproute.DialKernel(ns)
	if err != nil {
		t.Fatal(err)
	}
	c := iproute.NewConn(tr)
	defer c.Close()
	before, err := Collect(c)
	if err != nil {
		t.Fatal(err)
	}
	// Unanswered ARP requests leave by a: tx packets on a, rx on b.
	exec.Command("ip", "netns", "exec", ns, "ping", "-c", "2", "-i", "0.2", "-W", "1", "10.77.0.9").Run()
	after, err := Collect(c)
	if err != nil {
		t.Fatal(err)
	}
	var a, b Row
	for _, r := range Rates(before, after, time.Second) {
		switch r.Name {
		case "sta":
			a = r
		case "stb":
			b = r
		}
	}
	if a.TxPps == 0 || b.RxPps == 0 || a.TxBps < 42*a.TxPps {
		t.Fatalf("a %+v b %+v", a, b)
	}
}
