package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"strings"
)

// step is one line of potcmp's transcript.
type step struct {
	N       int     `json:"n"`
	Mean    float64 `json:"mean"`
	Lower   float64 `json:"lower"`
	Upper   float64 `json:"upper"`
	Verdict string  `json:"verdict"`
}

// drawTranscript draws the running mean and the confidence bounds of one
// decision against the number of scores, with the tolerance line, as SVG.
func drawTranscript(transcript, svgPath string, tol float64, title string) error {
	f, err := os.Open(transcript)
	if err != nil {
		return err
	}
	defer f.Close()
	var steps []step
	verdict := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s step
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return fmt.Errorf("%s: %v", transcript, err)
		}
		if s.Verdict != "" {
			verdict = fmt.Sprintf("%s at n=%d", s.Verdict, s.N)
			continue
		}
		steps = append(steps, s)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(steps) == 0 {
		return fmt.Errorf("%s: no scores", transcript)
	}
	const w, h, left, right, top, bottom = 640.0, 360.0, 56.0, 16.0, 40.0, 44.0
	// The y range shows the tolerance and the bounds once they are informative.
	ymax := 2 * tol
	for _, s := range steps[min(len(steps)-1, 2):] {
		ymax = max(ymax, s.Mean*1.2)
	}
	ymax = min(1, ymax)
	nmax := float64(steps[len(steps)-1].N)
	x := func(n int) float64 { return left + (w-left-right)*float64(n)/nmax }
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-min(v, ymax)/ymax) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%g" height="%g" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%g" y="22" font-size="14">%s: %s</text>`+"\n", left, html.EscapeString(title), html.EscapeString(verdict))
	// axes and ticks
	fmt.Fprintf(&b, `<path d="M%g %g V%g H%g" stroke="black" fill="none"/>`+"\n", left, top, h-bottom, w-right)
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%.3f</text>`+"\n", left-6, y(v)+4, v)
		n := int(nmax * float64(i) / 4)
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%d</text>`+"\n", x(n), h-bottom+16, n)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">scores read</text>`+"\n", (left+w-right)/2, h-8)
	// the band between the bounds, the mean, the tolerance
	var band strings.Builder
	for i, s := range steps {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&band, "%s%.1f %.1f ", cmd, x(s.N), y(s.Upper))
	}
	for i := len(steps) - 1; i >= 0; i-- {
		fmt.Fprintf(&band, "L%.1f %.1f ", x(steps[i].N), y(steps[i].Lower))
	}
	fmt.Fprintf(&b, `<path d="%sZ" fill="#9ecae1" fill-opacity="0.6" stroke="#3182bd"/>`+"\n", band.String())
	var mean strings.Builder
	for i, s := range steps {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&mean, "%s%.1f %.1f ", cmd, x(s.N), y(s.Mean))
	}
	fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="black" stroke-width="1.5"/>`+"\n", mean.String())
	fmt.Fprintf(&b, `<path d="M%g %.1f H%g" stroke="#d62728" stroke-dasharray="6 4"/>`+"\n", left, y(tol), w-right)
	fmt.Fprintf(&b, `<text x="%g" y="%.1f" fill="#d62728" text-anchor="end">tolerance %g</text>`+"\n", w-right-4, y(tol)-5, tol)
	fmt.Fprintf(&b, `<text x="%g" y="22" text-anchor="end" fill="#555">black: running mean; blue: confidence bounds</text>`+"\n", w-right)
	b.WriteString("</svg>\n")
	return writeAtomic(svgPath, []byte(b.String()))
}
