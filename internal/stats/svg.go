package stats

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Series is one sample drawn as a histogram.
type Series struct {
	Name   string
	Values []float64
}

// Histogram is one panel of a plot: its series are binned alike and drawn
// over one another, the first at the back, each as the fraction of its own
// values that falls in a bin, so that samples of different sizes compare.
type Histogram struct {
	Title  string
	XLabel string
	// Bins is the number of bins; 0 means DefaultBins.
	Bins int
	// Min and Max bound the x axis; when Min >= Max the range of the data
	// is used. Values outside the range are counted in the end bins.
	Min, Max float64
	Series   []Series
}

// DefaultBins is the number of bins of a Histogram that does not say.
const DefaultBins = 40

// Drawing sizes, in SVG user units.
const (
	svgWidth    = 720.0
	panelHeight = 320.0
	marginLeft  = 70.0
	marginRight = 20.0
	marginTop   = 56.0
	marginBot   = 55.0
	xTicks      = 5
	yTicks      = 4
	maxBins     = 1000
)

// color is series i's colour; they cycle when there are more series.
func color(i int) string {
	return [...]string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd"}[i%4]
}

// WriteSVG draws the histograms one under another as a standalone SVG
// document: plain text, no scripts, no external references. Values that
// are not finite are not drawn; the legend says how many there were. It
// returns the first error of w.
func WriteSVG(w io.Writer, hs ...Histogram) error {
	p := &svgWriter{w: w}
	height := panelHeight * float64(max(len(hs), 1))
	p.printf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="12">`+"\n",
		num(svgWidth), num(height), num(svgWidth), num(height))
	p.printf(`<rect x="0" y="0" width="%s" height="%s" fill="white"/>`+"\n", num(svgWidth), num(height))
	for i, h := range hs {
		p.panel(&h, float64(i)*panelHeight)
	}
	p.printf("</svg>\n")
	return p.err
}

// svgWriter keeps the first write error, so that drawing code stays plain.
type svgWriter struct {
	w   io.Writer
	err error
}

func (p *svgWriter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// text writes s as a text element, escaped.
func (p *svgWriter) text(x, y float64, anchor, extra, s string) {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	p.printf(`<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`+"\n", num(x), num(y), anchor, extra, b.String())
}

// panel draws h with its top at y0.
func (p *svgWriter) panel(h *Histogram, y0 float64) {
	bins := h.Bins
	if bins <= 0 {
		bins = DefaultBins
	}
	bins = min(bins, maxBins)
	lo, hi := h.Min, h.Max
	if !(lo < hi) {
		lo, hi = dataRange(h.Series)
	}
	fracs := make([][]float64, len(h.Series))
	dropped := make([]int, len(h.Series))
	top := 0.0
	for i, s := range h.Series {
		fracs[i], dropped[i] = binned(s.Values, bins, lo, hi)
		for _, f := range fracs[i] {
			top = max(top, f)
		}
	}
	if top == 0 {
		top = 1
	}
	left, right := marginLeft, svgWidth-marginRight
	ptop, pbot := y0+marginTop, y0+panelHeight-marginBot
	xOf := func(v float64) float64 { return left + (v-lo)/(hi-lo)*(right-left) }
	yOf := func(f float64) float64 { return pbot - f/top*(pbot-ptop) }

	p.text(svgWidth/2, y0+22, "middle", ` font-size="14" font-weight="bold"`, h.Title)
	width := (right - left) / float64(bins)
	for i := range h.Series {
		for b, f := range fracs[i] {
			if f == 0 {
				continue
			}
			p.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.45" stroke="%s" stroke-width="0.5"/>`+"\n",
				num(left+float64(b)*width), num(yOf(f)), num(width), num(pbot-yOf(f)), color(i), color(i))
		}
	}
	// Axes, ticks and labels.
	p.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`+"\n", num(left), num(pbot), num(right), num(pbot))
	p.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`+"\n", num(left), num(ptop), num(left), num(pbot))
	for t := 0; t <= xTicks; t++ {
		v := lo + (hi-lo)*float64(t)/xTicks
		x := xOf(v)
		p.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`+"\n", num(x), num(pbot), num(x), num(pbot+5))
		p.text(x, pbot+18, "middle", "", label(v))
	}
	for t := 0; t <= yTicks; t++ {
		f := top * float64(t) / yTicks
		y := yOf(f)
		p.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`+"\n", num(left-5), num(y), num(left), num(y))
		p.text(left-8, y+4, "end", "", label(f))
	}
	p.text((left+right)/2, pbot+40, "middle", "", h.XLabel)
	p.text(16, (ptop+pbot)/2, "middle", fmt.Sprintf(` transform="rotate(-90 16 %s)"`, num((ptop+pbot)/2)), "fraction of values")
	// Legend in a row between the title and the plot, where no bar can
	// hide it.
	for i, s := range h.Series {
		x, y := left+float64(i)*(right-left)/float64(len(h.Series)), y0+32
		c := color(i)
		p.printf(`<rect x="%s" y="%s" width="12" height="12" fill="%s" fill-opacity="0.45" stroke="%s"/>`+"\n", num(x), num(y), c, c)
		name := fmt.Sprintf("%s (%d values)", s.Name, len(s.Values)-dropped[i])
		if dropped[i] > 0 {
			name += fmt.Sprintf(", %d not finite", dropped[i])
		}
		p.text(x+18, y+10, "start", "", name)
	}
}

// dataRange returns the range of the finite values of all series, widened
// when it is a single point (or empty) so that bins have a width.
func dataRange(ss []Series) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, v := range s.Values {
			if !math.IsInf(v, 0) && !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	switch {
	case lo > hi:
		return 0, 1
	case lo == hi:
		return lo - 0.5, hi + 0.5
	}
	return lo, hi
}

// binned returns the fraction of the finite values in each of n equal bins
// of [lo, hi], and how many values were not finite.
func binned(vs []float64, n int, lo, hi float64) (fracs []float64, dropped int) {
	counts := make([]int, n)
	for _, v := range vs {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			dropped++
			continue
		}
		b := int(math.Floor((v - lo) / (hi - lo) * float64(n)))
		counts[min(max(b, 0), n-1)]++
	}
	fracs = make([]float64, n)
	if finite := len(vs) - dropped; finite > 0 {
		for i, c := range counts {
			fracs[i] = float64(c) / float64(finite)
		}
	}
	return fracs, dropped
}

// num formats a coordinate: two decimals are finer than any screen.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// label formats a tick value briefly.
func label(v float64) string {
	if math.Abs(v) < 1e-12 {
		v = 0 // not -0 or 1e-17 from the tick arithmetic
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
