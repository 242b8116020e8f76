package format

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// A scored record keeps its log-likelihood through the stream and JSON,
// 0 included; an unscored one reads back unscored.
func TestLoglikRoundTrip(t *testing.T) {
	recs := makeRecords(4, 8, 2, 20)
	recs[0].Loglik, recs[0].Scored = -12.375, true
	recs[1].Loglik, recs[1].Scored = 0, true
	recs[2].Loglik, recs[2].Scored = math.Inf(-1), true
	out := writeStream(t, testHeader(), recs)
	got, _, err := readAll(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if !recordsEqual(got[i], recs[i]) {
			t.Errorf("record %d: loglik %v scored %v, want %v %v", i, got[i].Loglik, got[i].Scored, recs[i].Loglik, recs[i].Scored)
		}
	}
	for i, want := range []string{`"loglik":-12.375}`, `"loglik":0}`, `"loglik":null}`} {
		b := recs[i].AppendJSON(nil)
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON of record %d: %s, want %s", i, b, want)
		}
	}
	if b := recs[3].AppendJSON(nil); bytes.Contains(b, []byte("loglik")) {
		t.Errorf("JSON of an unscored record: %s", b)
	}
	for i := range 2 {
		var back Record
		if err := json.Unmarshal(recs[i].AppendJSON(nil), &back); err != nil || !back.Scored || back.Loglik != recs[i].Loglik {
			t.Errorf("JSON of record %d read back as %v %v, %v", i, back.Loglik, back.Scored, err)
		}
	}
}

// Key 18 is a float: another type is refused where it is read.
func TestLoglikType(t *testing.T) {
	for _, c := range []struct {
		field []byte
		ok    bool
		want  float64
	}{
		{[]byte{keyLoglik, 0xcb, 0xc0, 0x24, 0, 0, 0, 0, 0, 0}, true, -10},
		{[]byte{keyLoglik, 0xca, 0xc1, 0x20, 0, 0}, true, -10},
		{[]byte{keyLoglik, 0x05}, false, 0},
	} {
		d := dec{b: append([]byte{0x81}, c.field...)}
		var r Record
		d.record(&r, &arena{})
		if (d.err == "") != c.ok || c.ok && (r.Loglik != c.want || !r.Scored) {
			t.Errorf("% x: loglik %v scored %v, error %q", c.field, r.Loglik, r.Scored, d.err)
		}
	}
}
