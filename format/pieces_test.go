package format

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

// vocabTable is a table as a local model gives it: every id of a small
// vocabulary, some pieces not UTF-8 (a byte token) and one empty.
func vocabTable() *Pieces {
	p := NewPieces()
	for id, b := range []string{"", "<s>", " the", "\xe2", "\x80\x99", " cat", "é", " sat"} {
		p.Add(int32(id), b)
	}
	return p
}

func pieceRecord(index uint64, table *Pieces, ids ...int32) Record {
	r := Record{Index: index, Tokens: ids, Logprobs: make([]float32, len(ids)), TopK: 2, Pieces: table}
	for _, id := range ids {
		r.TopTokens = append(r.TopTokens, id, (id+1)%8)
		r.TopLogprobs = append(r.TopLogprobs, -0.1, -2)
	}
	return r
}

// checkBytes says whether every id of got resolves to the bytes table has.
func checkBytes(t *testing.T, got Record, table *Pieces) {
	t.Helper()
	for i, id := range got.Tokens {
		want, _ := table.Get(id)
		if b, ok := got.Bytes(i); !ok || b != want {
			t.Errorf("record %d position %d (id %d): bytes %q, %v; want %q", got.Index, i, id, b, ok, want)
		}
		for j := range got.TopK {
			want, _ := table.Get(got.TopTokens[i*got.TopK+j])
			if b, ok := got.TopBytesAt(i, j); !ok || b != want {
				t.Errorf("record %d position %d alternative %d: bytes %q, %v; want %q", got.Index, i, j, b, ok, want)
			}
		}
	}
}

func TestPiecesRoundTrip(t *testing.T) {
	table := vocabTable()
	recs := []Record{
		pieceRecord(0, table, 2, 5, 7),
		pieceRecord(1, table, 2, 3, 4, 6), // some new ids, some given already
		pieceRecord(2, table, 2, 5),       // none new
		{Index: 3, Text: "no tokens at all"},
	}
	out := writeStream(t, testHeader(), recs, WithFrameSize(1, 1<<20))
	got, _, err := readAll(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		checkBytes(t, r, table)
	}
	if got[0].Pieces == nil || got[0].Pieces != got[2].Pieces {
		t.Error("records of one segment do not share its table")
	}
	if got[3].Pieces != nil {
		t.Error("a record without ids points at a table")
	}
	if ids := got[0].Pieces.IDs(); !slices.Equal(ids, []int32{0, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("segment table holds ids %v, want those used", ids)
	}
}

// The bytes the writer gives for a record are exactly those of its ids that
// the segment has not given yet: once per segment, with the first record.
func TestPiecesGivenOnce(t *testing.T) {
	table := vocabTable()
	w, err := NewWriter(&bytes.Buffer{}, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	given := func() []int32 {
		var ids []int32
		for _, p := range w.fresh {
			ids = append(ids, p.id)
		}
		slices.Sort(ids)
		return ids
	}
	steps := []struct {
		ids  []int32
		want []int32
	}{
		{[]int32{2, 5}, []int32{2, 3, 5, 6}}, // the alternatives (id+1) count too
		{[]int32{2, 5, 5}, nil},
		{[]int32{7, 2}, []int32{0, 7}},
		{[]int32{1}, []int32{1}},
	}
	for i, st := range steps {
		r := pieceRecord(uint64(i), table, st.ids...)
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
		if got := given(); !slices.Equal(got, st.want) {
			t.Errorf("record %d: gave bytes of %v, want %v", i, got, st.want)
		}
	}
	w.Close()
}

// Segments stay self-contained: concatenated, each resolves its own ids;
// re-written into one segment (potsplit), the bytes follow the records.
func TestPiecesAcrossSegments(t *testing.T) {
	table := vocabTable()
	a := writeStream(t, testHeader(), []Record{pieceRecord(0, table, 2, 5)}).Bytes()
	b := writeStream(t, testHeader(), []Record{pieceRecord(1, table, 2, 5), pieceRecord(2, table, 7)}).Bytes()
	got, _, err := readAll(append(append([]byte{}, a...), b...))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Pieces == got[1].Pieces {
		t.Error("two segments share a table")
	}
	// Records print alike whichever table they point at.
	x, y := got[0], got[1]
	x.Index = y.Index
	if fmt.Sprintf("%+v", x) != fmt.Sprintf("%+v", y) {
		t.Errorf("equal records print differently:\n%+v\n%+v", x, y)
	}
	for _, r := range got {
		checkBytes(t, r, table)
	}
	// Re-written in another order into one segment, from two tables.
	again, _, err := readAll(writeStream(t, testHeader(), []Record{got[2], got[1], got[0]}).Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		checkBytes(t, r, table)
	}
}

func TestPiecesConflict(t *testing.T) {
	table, other := vocabTable(), NewPieces()
	other.Add(2, " dog")
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	r0, r1, r2 := pieceRecord(0, table, 2), pieceRecord(1, other, 2), pieceRecord(2, table, 3)
	if err := w.Write(&r0); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&r1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("id 2 given other bytes: %v, want ErrInvalid", err)
	}
	if err := w.Write(&r2); err != nil {
		t.Fatalf("writer not usable after a refused record: %v", err)
	}
	w.Close()
	got, _, err := readAll(buf.Bytes())
	if err != nil || len(got) != 2 {
		t.Fatalf("%d records, %v", len(got), err)
	}
	checkBytes(t, got[1], table)
	if table.Add(2, " dog") || !table.Add(2, " the") {
		t.Error("Add changed an id's bytes, or refused the same ones")
	}

	// A segment that gives an id two meanings is corrupt from that record on.
	rec := func(id int, b string) []byte {
		c := appendMapHeader(nil, 2)
		c = appendIDs(append(c, keyTokens), []int32{int32(id)})
		return appendPieces(append(c, keyPieces), []piece{{id: int32(id), bytes: b}})
	}
	// One record giving id 6 twice: the same bytes are no conflict, other
	// bytes are.
	twice := func(b1, b2 string) []byte {
		c := appendMapHeader(nil, 2)
		c = appendIDs(append(c, keyTokens), []int32{6})
		return appendPieces(append(c, keyPieces), []piece{{id: 6, bytes: b1}, {id: 6, bytes: b2}})
	}
	if recs, _, err := readAll(segmentAround(t, twice("s", "s"), 1)); err != nil || len(recs) != 1 {
		t.Errorf("id 6 given twice alike: %d records, %v", len(recs), err)
	}
	if _, _, err := readAll(segmentAround(t, twice("s", "t"), 1)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("id 6 given two byte strings in one record: %v", err)
	}
	content := append(append(rec(4, "x"), rec(5, "y")...), rec(4, "z")...)
	recs, _, err := readAll(segmentAround(t, content, 3))
	if !errors.Is(err, ErrCorrupt) || len(recs) != 2 {
		t.Fatalf("got %d records and %v, want 2 and ErrCorrupt", len(recs), err)
	}
	if b, _ := recs[0].Bytes(0); b != "x" {
		t.Errorf("id 4 reads %q", b)
	}
}

func TestTokenBytesRoundTrip(t *testing.T) {
	inf := float32(math.Inf(-1))
	rec := Record{
		Logprobs: []float32{-0.5, -1}, TokenBytes: []string{" Hello", "\xe2\x80"},
		TopK: 3, TopLogprobs: []float32{-0.5, -2, inf, -1, -1.5, -3}, TopBytes: []string{" Hello", "", "", "\xe2\x80", " world", ""},
		Text: "Hello",
	}
	got, _, err := readAll(writeStream(t, testHeader(), []Record{rec}).Bytes())
	if err != nil {
		t.Fatal(err)
	}
	r := got[0]
	if !slices.Equal(r.TokenBytes, rec.TokenBytes) || !slices.Equal(r.TopBytes, rec.TopBytes) || r.Pieces != nil {
		t.Fatalf("got %q %q", r.TokenBytes, r.TopBytes)
	}
	if b, ok := r.Bytes(1); !ok || b != "\xe2\x80" {
		t.Errorf("Bytes(1) = %q, %v", b, ok)
	}
	if b, ok := r.TopBytesAt(0, 1); !ok || b != "" {
		t.Errorf("an empty token with a probability: %q, %v", b, ok)
	}
	if _, ok := r.TopBytesAt(0, 2); ok {
		t.Error("padding has bytes")
	}
	if _, ok := r.TopBytesAt(1, 3); ok {
		t.Error("alternative past top-k has bytes")
	}
}

func TestTokenBytesInvalid(t *testing.T) {
	long := string(make([]byte, MaxPiece+1))
	tests := []struct {
		name string
		rec  Record
	}{
		{"beside ids", Record{Tokens: []int32{1}, TokenBytes: []string{"a"}}},
		{"fewer than positions", Record{Logprobs: []float32{-1, -2}, TokenBytes: []string{"a"}}},
		{"more than positions", Record{Logprobs: []float32{-1}, TokenBytes: []string{"a", "b"}}},
		{"top beside top ids", Record{Tokens: []int32{1}, TopK: 1, TopTokens: []int32{1}, TopLogprobs: []float32{-1}, TopBytes: []string{"a"}}},
		{"top length", Record{TokenBytes: []string{"a"}, TopK: 2, TopLogprobs: []float32{-1, -2}, TopBytes: []string{"a"}}},
		{"too long", Record{TokenBytes: []string{long}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(&bytes.Buffer{}, testHeader())
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(&tt.rec); !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

// Hostile counts and lengths in the new fields fail without allocating for
// them.
func TestPiecesHostile(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
	}{
		{"pieces count", []byte{0x81, keyPieces, 0xdf, 0xff, 0xff, 0xff, 0xff}},
		{"piece id out of range", []byte{0x81, keyPieces, 0x81, 0xce, 0x80, 0, 0, 0, 0xc4, 1, 'a'}},
		{"piece too long", append([]byte{0x81, keyPieces, 0x81, 1, 0xc5, 0x10, 0x01}, make([]byte, MaxPiece+1)...)},
		{"piece not bin", []byte{0x81, keyPieces, 0x81, 1, 0xa1, 'a'}},
		{"bytes count", []byte{0x81, keyTokenBytes, 0xdd, 0xff, 0xff, 0xff, 0xff}},
		{"bytes element", []byte{0x81, keyTopBytes, 0x91, 0xc4, 9, 'a'}},
		{"bytes not array", []byte{0x81, keyTokenBytes, 0xc4, 1, 'a'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, _, err = readAll(segmentAround(t, tt.content, 1)) })
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("got %v, want ErrCorrupt", err)
			}
			if n > 8<<20 {
				t.Errorf("allocated %d bytes", n)
			}
		})
	}
}
