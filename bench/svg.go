package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// This file draws the report's TCP bulk rows as an SVG bar chart:
// throughput by MTU, one bar per stack. It is plain text written by hand
// so the suite needs no plotting tool.

// svgColors are the bar fills by stack.
var svgColors = map[Stack]string{Usnet: "#1f77b4", GVisor: "#ff7f0e", Kernel: "#2ca02c", NS3: "#9467bd"}

// mtuBars collects the throughput of every tcp-bulk/mtu* row: the MTU
// labels in table order and, per stack, the value (NaN when the cell did
// not run).
func (r *Report) mtuBars() (labels []string, stacks []Stack, vals map[Stack][]float64) {
	vals = map[Stack][]float64{}
	all := append([]Stack{Usnet}, Peers...)
	for _, row := range r.Rows {
		mtu, ok := strings.CutPrefix(row.Scenario, "tcp-bulk/mtu")
		if !ok || row.Metric != "throughput" {
			continue
		}
		labels = append(labels, mtu)
		for _, st := range all {
			v := math.NaN()
			if c := row.Cells[st]; c.Status == "ok" {
				v = c.Value
			}
			vals[st] = append(vals[st], v)
		}
	}
	for _, st := range all {
		for _, v := range vals[st] {
			if !math.IsNaN(v) {
				stacks = append(stacks, st)
				break
			}
		}
	}
	return labels, stacks, vals
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// WriteMTUSVG writes the throughput-by-MTU chart. title goes on top (the
// machine and date, say). It fails if the report has no TCP bulk rows.
func (r *Report) WriteMTUSVG(w io.Writer, title string) error {
	labels, stacks, vals := r.mtuBars()
	if len(labels) == 0 || len(stacks) == 0 {
		return fmt.Errorf("svg: the report has no tcp-bulk throughput figures")
	}
	const (
		width, height          = 640, 400
		left, right, top, bott = 60, 20, 50, 60
	)
	top0 := 0.0
	for _, st := range stacks {
		for _, v := range vals[st] {
			if !math.IsNaN(v) {
				top0 = max(top0, v)
			}
		}
	}
	ymax := niceCeil(top0)
	plotW, plotH := float64(width-left-right), float64(height-top-bott)
	y := func(v float64) float64 { return float64(top) + plotH*(1-v/ymax) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="20" text-anchor="middle" font-size="14">%s</text>`+"\n", width/2, html.EscapeString(title))
	// Grid and y axis: five steps.
	for i := 0; i <= 5; i++ {
		v := ymax * float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, width-right, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y(v), FormatNum(v))
	}
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">throughput, Gb/s</text>`+"\n", float64(top)+plotH/2)
	group := plotW / float64(len(labels))
	bar := group * 0.8 / float64(len(stacks))
	for gi, lab := range labels {
		x0 := float64(left) + group*float64(gi) + group*0.1
		for si, st := range stacks {
			v := vals[st][gi]
			x := x0 + bar*float64(si)
			if math.IsNaN(v) {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#888">n/a</text>`+"\n", x+bar/2, y(0)-4)
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s MTU %s: %s Gb/s</title></rect>`+"\n",
				x, y(v), bar-2, y(0)-y(v), svgColors[st], st, html.EscapeString(lab), FormatNum(v))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n", x+bar/2-1, y(v)-3, FormatNum(v))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">MTU %s</text>`+"\n", x0+group*0.4, height-bott+18, html.EscapeString(lab))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, width-right, y(0), y(0))
	// Legend along the bottom.
	lx := float64(left)
	for _, st := range stacks {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="12" height="12" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n",
			lx, height-22, svgColors[st], lx+16, height-12, st)
		lx += 100
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
