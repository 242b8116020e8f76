package stats

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 || (math.IsNaN(a) && math.IsNaN(b)) }

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{name: "empty", in: nil, want: Summary{}},
		{name: "one", in: []float64{3}, want: Summary{N: 1, Mean: 3, Min: 3, Max: 3, Q50: 3, Q90: 3, Q99: 3}},
		// mean 2.5; squares of deviations 2.25+0.25+0.25+2.25 = 5, /3;
		// q50 at h=1.5: 2.5; q90 at h=2.7: 3.7; q99 at h=2.97: 3.97.
		{name: "1 to 4", in: []float64{1, 2, 3, 4}, want: Summary{N: 4, Mean: 2.5, SD: math.Sqrt(5.0 / 3), Min: 1, Max: 4, Q50: 2.5, Q90: 3.7, Q99: 3.97}},
		// two zeros of five; mean 0.3; deviations -.3,-.3,-.2,.2,.6: 0.09+0.09+0.04+0.04+0.36 = 0.62, /4.
		{name: "zeros", in: []float64{0, 0, 0.1, 0.5, 0.9}, want: Summary{N: 5, Mean: 0.3, SD: math.Sqrt(0.62 / 4), Min: 0, Max: 0.9, Q50: 0.1, Q90: 0.74, Q99: 0.884, Zero: 0.4}},
		{name: "all equal", in: []float64{0, 0, 0}, want: Summary{N: 3, Zero: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, w := Summarize(tt.in), tt.want
			if g.N != w.N || !near(g.Mean, w.Mean) || !near(g.SD, w.SD) || g.Min != w.Min || g.Max != w.Max ||
				!near(g.Q50, w.Q50) || !near(g.Q90, w.Q90) || !near(g.Q99, w.Q99) || !near(g.Zero, w.Zero) {
				t.Errorf("got  %+v\nwant %+v", g, w)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{10, 20, 30}
	for _, tt := range []struct{ q, want float64 }{{0, 10}, {0.25, 15}, {0.5, 20}, {0.75, 25}, {1, 30}, {-1, 10}, {2, 30}} {
		if got := Quantile(s, tt.q); !near(got, tt.want) {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("quantile of an empty sample is not NaN")
	}
}

func TestTV(t *testing.T) {
	tests := []struct {
		name string
		a, b map[int32]int64
		want float64
	}{
		{name: "identical", a: map[int32]int64{1: 3, 2: 1}, b: map[int32]int64{1: 3, 2: 1}, want: 0},
		{name: "proportional", a: map[int32]int64{1: 3, 2: 1}, b: map[int32]int64{1: 30, 2: 10}, want: 0},
		{name: "disjoint", a: map[int32]int64{1: 3, 2: 1}, b: map[int32]int64{3: 5}, want: 1},
		// a = (1/2, 1/2, 0), b = (1/4, 1/4, 1/2): (1/4 + 1/4 + 1/2) / 2.
		{name: "half", a: map[int32]int64{1: 1, 2: 1}, b: map[int32]int64{1: 1, 2: 1, 3: 2}, want: 0.5},
		// a = (0.9, 0.1), b = (0.5, 0.5): (0.4 + 0.4) / 2.
		{name: "skewed", a: map[int32]int64{7: 9, 8: 1}, b: map[int32]int64{7: 1, 8: 1}, want: 0.4},
		{name: "both empty", a: nil, b: map[int32]int64{}, want: 0},
		{name: "one empty", a: map[int32]int64{1: 1}, b: nil, want: 1},
		{name: "non-positive counts ignored", a: map[int32]int64{1: 2, 2: 0, 3: -4}, b: map[int32]int64{1: 5, 9: 0}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TV(tt.a, tt.b); !near(got, tt.want) {
				t.Errorf("TV = %v, want %v", got, tt.want)
			}
			if got := TV(tt.b, tt.a); !near(got, tt.want) {
				t.Errorf("TV reversed = %v, want %v", got, tt.want)
			}
		})
	}
	// Runes are keys as well as token ids are.
	if got := TV(map[rune]int64{'a': 1}, map[rune]int64{'a': 1, 'b': 1}); !near(got, 0.5) {
		t.Errorf("TV of runes = %v", got)
	}
}

func TestKS(t *testing.T) {
	inf := math.Inf(1)
	nan := math.NaN()
	tests := []struct {
		name string
		a, b []float64
		want float64
	}{
		{name: "identical", a: []float64{1, 2, 2, 3}, b: []float64{1, 2, 2, 3}, want: 0},
		{name: "repeated", a: []float64{1, 2, 3}, b: []float64{1, 1, 2, 2, 3, 3}, want: 0},
		{name: "disjoint", a: []float64{1, 2}, b: []float64{3, 4, 5}, want: 1},
		{name: "disjoint reversed", a: []float64{3, 4, 5}, b: []float64{1, 2}, want: 1},
		// F_a: 1/3, 2/3, 1 at 1, 2, 3; F_b: 1/2, 1 at 2, 4: gaps 1/3, 1/6, 1/2 (at 3).
		{name: "interleaved", a: []float64{1, 2, 3}, b: []float64{2, 4}, want: 0.5},
		// Ties across samples: at 0 both jump (1/2 vs 1/4), at 1 both reach 1.
		{name: "ties", a: []float64{0, 1}, b: []float64{0, 1, 1, 1}, want: 0.25},
		{name: "shift by one of four", a: []float64{1, 2, 3, 4}, b: []float64{2, 3, 4, 5}, want: 0.25},
		{name: "infinities", a: []float64{-inf, 0}, b: []float64{0, inf}, want: 0.5},
		{name: "NaN ignored", a: []float64{nan, 1, 2}, b: []float64{1, 2}, want: 0},
		{name: "empty", a: nil, b: []float64{1}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KS(tt.a, tt.b); !near(got, tt.want) {
				t.Errorf("KS = %v, want %v", got, tt.want)
			}
			if got := KS(tt.b, tt.a); !near(got, tt.want) {
				t.Errorf("KS reversed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestKSBrute checks KS against the definition on many small samples with
// ties: the largest gap of the distribution functions over every value.
func TestKSBrute(t *testing.T) {
	r := uint64(1)
	next := func(n int) int {
		r = r*6364136223846793005 + 1442695040888963407
		return int(r>>33) % n
	}
	cdf := func(s []float64, x float64) float64 {
		k := 0
		for _, v := range s {
			if v <= x {
				k++
			}
		}
		return float64(k) / float64(len(s))
	}
	for range 500 {
		a := make([]float64, 1+next(8))
		b := make([]float64, 1+next(8))
		for i := range a {
			a[i] = float64(next(5))
		}
		for i := range b {
			b[i] = float64(next(5))
		}
		slices.Sort(a)
		slices.Sort(b)
		var want float64
		for _, x := range append(slices.Clone(a), b...) {
			want = max(want, math.Abs(cdf(a, x)-cdf(b, x)))
		}
		if got := KS(a, b); !near(got, want) {
			t.Fatalf("KS(%v, %v) = %v, want %v", a, b, got, want)
		}
	}
}

func TestKSUnsortedNaN(t *testing.T) {
	// Not sorted as documented: the answer is meaningless, but it must
	// come back.
	_ = KS([]float64{1, math.NaN(), 0}, []float64{math.NaN(), 2, math.NaN(), 1})
}

// svgDoc is what the tests read back of an SVG document.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Width   string   `xml:"width,attr"`
	Height  string   `xml:"height,attr"`
	Rects   []struct {
		Fill   string  `xml:"fill,attr"`
		Height float64 `xml:"height,attr"`
		Width  float64 `xml:"width,attr"`
	} `xml:"rect"`
	Texts []string   `xml:"text"`
	Lines []struct{} `xml:"line"`
}

func parseSVG(t *testing.T, b []byte) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	if d.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root %v", d.XMLName)
	}
	return d
}

func TestWriteSVG(t *testing.T) {
	var buf bytes.Buffer
	err := WriteSVG(&buf,
		Histogram{Title: "scores <tv> & more", XLabel: "score", Bins: 4, Min: 0, Max: 1,
			Series: []Series{{Name: "pairs", Values: []float64{0, 0, 0.3, 1, 1.5}}}},
		Histogram{Title: "logprobs", XLabel: "log-probability", Bins: 10,
			Series: []Series{{Name: "a.pot", Values: []float64{-1, -2, math.Inf(-1)}}, {Name: "b.pot", Values: []float64{-3, -2}}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, buf.Bytes())
	if d.Width != "720.00" || d.Height != "640.00" {
		t.Errorf("size %s x %s", d.Width, d.Height)
	}
	text := strings.Join(d.Texts, "|")
	for _, want := range []string{"scores <tv> & more", "score", "logprobs", "log-probability", "fraction of values",
		"pairs (5 values)", "a.pot (2 values), 1 not finite", "b.pot (2 values)"} {
		if !strings.Contains(text, want) {
			t.Errorf("no text %q in %s", want, text)
		}
	}
	// Bars: background, then panel 1 has bins [0,.25): 2, [.25,.5): 1,
	// [.75,1]: 2 (1 and 1.5 clamped); panel 2 has 2 + 2 non-empty bins;
	// plus 1 + 2 legend boxes.
	bars := 0
	var heights []float64
	for _, r := range d.Rects[1:] {
		if r.Width != 12 {
			bars++
			heights = append(heights, r.Height)
		}
	}
	if bars != 3+4 || len(d.Rects) != 1+bars+3 {
		t.Fatalf("%d bars, %d rects", bars, len(d.Rects))
	}
	// The tallest bar of a panel fills its plot height; 1/5 is half of 2/5.
	ph := panelHeight - marginTop - marginBot
	if !near(heights[0], ph) || !near(heights[1], ph/2) || !near(heights[2], ph) {
		t.Errorf("bar heights %v, plot height %v", heights[:3], ph)
	}
	if len(d.Lines) != 2*(2+xTicks+1+yTicks+1) {
		t.Errorf("%d lines", len(d.Lines))
	}
}

func TestWriteSVGEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSVG(&buf, Histogram{Title: "nothing", Series: []Series{{Name: "none"}}}); err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, buf.Bytes())
	if len(d.Rects) != 2 { // background and the legend box
		t.Errorf("%d rects", len(d.Rects))
	}
	buf.Reset()
	if err := WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	parseSVG(t, buf.Bytes())
}

type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errWrite
	}
	w.n--
	return len(p), nil
}

func TestWriteSVGError(t *testing.T) {
	for n := range 5 {
		err := WriteSVG(&failWriter{n: n}, Histogram{Series: []Series{{Values: []float64{1, 2}}}})
		if !errors.Is(err, errWrite) {
			t.Errorf("fail after %d writes: %v", n, err)
		}
	}
}

func ExampleKS() {
	a := []float64{1, 2, 3, 4}
	b := []float64{3, 4, 5, 6}
	fmt.Println(KS(a, b))
	// Output: 0.5
}

func ExampleTV() {
	a := map[string]int64{"the": 3, "cat": 1}
	b := map[string]int64{"the": 1, "dog": 1}
	fmt.Println(TV(a, b))
	// Output: 0.5
}

func ExampleWriteSVG() {
	h := Histogram{Title: "chosen-token log-probabilities", XLabel: "log-probability", Series: []Series{
		{Name: "ref.pot", Values: []float64{-0.1, -0.5, -2}},
		{Name: "cand.pot", Values: []float64{-0.2, -1.5, -3}},
	}}
	if err := WriteSVG(io.Discard, h); err != nil {
		fmt.Println(err)
	}
	// Output:
}
