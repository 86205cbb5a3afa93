package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestWriteMTUSVG(t *testing.T) {
	row := func(mtu string, u, g float64, kernel Cell) Row {
		return Row{Scenario: "tcp-bulk/mtu" + mtu, Metric: "throughput", Cells: map[Stack]Cell{
			Usnet: {Status: "ok", Value: u}, GVisor: {Status: "ok", Value: g}, Kernel: kernel, NS3: {Status: "none"}}}
	}
	rep := &Report{Rows: []Row{
		row("1500", 23, 1.7, Cell{Status: "ok", Value: 9.4}),
		row("9000", 12, 6.2, Cell{Status: "skip", Reason: "not root"}),
		{Scenario: "tcp-rr/1B", Metric: "p50", Cells: map[Stack]Cell{Usnet: {Status: "ok", Value: 9}}},
	}}
	var b bytes.Buffer
	if err := rep.WriteMTUSVG(&b, "a <title> & more"); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, one titled bar per figure, the missing one marked.
	d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	bars := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, b.String())
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "title" {
			bars++
		}
	}
	if bars != 5 {
		t.Fatalf("%d bars, want 5", bars)
	}
	s := b.String()
	for _, want := range []string{"MTU 1500", "MTU 9000", ">n/a<", ">usnet<", ">gvisor<", ">kernel<", "a &lt;title&gt; &amp; more"} {
		if !strings.Contains(s, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if strings.Contains(s, ">ns-3<") {
		t.Error("ns-3 has no bulk figures but has a legend entry")
	}
	if err := (&Report{}).WriteMTUSVG(io.Discard, ""); err == nil {
		t.Error("no error for a report without bulk rows")
	}
}

func TestNiceCeil(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{{0, 1}, {0.7, 1}, {1.3, 2}, {23, 50}, {17.2, 20}, {101, 200}} {
		if got := niceCeil(c.in); got != c.want {
			t.Errorf("niceCeil(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
