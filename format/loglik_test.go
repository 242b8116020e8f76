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
	roundTrip(t, recs)
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

// The alternatives' log-likelihoods go through the stream and JSON in
// order, -Inf included (null in JSON); they are refused without the
// trusted one, and a hostile count is refused before it is allocated.
func TestAltLogliks(t *testing.T) {
	recs := makeRecords(3, 8, 2, 20)
	recs[0].Loglik, recs[0].Scored, recs[0].AltLogliks = -12.5, true, []float64{-13.25, 0, math.Inf(-1)}
	recs[1].Loglik, recs[1].Scored = -3, true
	roundTrip(t, recs)
	b := recs[0].AppendJSON(nil)
	if !bytes.Contains(b, []byte(`"loglik_alt":[-13.25,0,null]}`)) {
		t.Errorf("JSON: %s", b)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil || len(back.AltLogliks) != 3 || back.AltLogliks[0] != -13.25 || !math.IsInf(back.AltLogliks[2], -1) {
		t.Errorf("JSON read back as %v, %v", back.AltLogliks, err)
	}
	if b := recs[1].AppendJSON(nil); bytes.Contains(b, []byte("loglik_alt")) {
		t.Errorf("JSON of a record without alternatives: %s", b)
	}
	for _, c := range []struct {
		name  string
		field []byte
		ok    bool
	}{
		{"trusted not a float", []byte{0x82, keyLoglik, 0xe5, keyAltLogliks, 0x92, 0xca, 0xc1, 0x20, 0, 0, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		{"scored", []byte{0x82, keyLoglik, 0xca, 0xc1, 0x20, 0, 0, keyAltLogliks, 0x91, 0xca, 0xc1, 0x20, 0, 0}, true},
		{"unscored", []byte{0x81, keyAltLogliks, 0x91, 0xca, 0xc1, 0x20, 0, 0}, false},
		{"not floats", []byte{0x82, keyLoglik, 0xca, 0xc1, 0x20, 0, 0, keyAltLogliks, 0x91, 0x05}, false},
		{"huge count", []byte{0x82, keyLoglik, 0xca, 0xc1, 0x20, 0, 0, keyAltLogliks, 0xdd, 0xff, 0xff, 0xff, 0xff}, false},
		{"past the end", []byte{0x82, keyLoglik, 0xca, 0xc1, 0x20, 0, 0, keyAltLogliks, 0x9f, 0xca}, false},
	} {
		d := dec{b: c.field}
		var r Record
		d.record(&r, &arena{})
		if (d.err == "") != c.ok {
			t.Errorf("%s: % x: error %q", c.name, c.field, d.err)
		}
		if c.ok && (len(r.AltLogliks) != 1 || r.AltLogliks[0] != -10) {
			t.Errorf("%s: read %v", c.name, r.AltLogliks)
		}
	}
}

// roundTrip writes recs and checks that they read back equal, their
// log-likelihoods to the bit.
func roundTrip(t *testing.T, recs []Record) {
	t.Helper()
	out := writeStream(t, testHeader(), recs)
	got, _, err := readAll(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if !recordsEqual(got[i], recs[i]) {
			t.Errorf("record %d: loglik %v scored %v alternatives %v, want %v %v %v", i, got[i].Loglik, got[i].Scored, got[i].AltLogliks, recs[i].Loglik, recs[i].Scored, recs[i].AltLogliks)
		}
	}
}
