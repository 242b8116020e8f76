package format_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/pot-audit/pot/format"
)

// A Writer writes one segment: its header at once, records in checked
// frames, and a trailer on Close. A Reader checks the header at once and
// returns the records.
func Example() {
	var stream bytes.Buffer
	h := format.Header{
		Kind:       format.KindOutputs,
		Challenges: format.ChallengeSet{ID: "c0ffee", Count: 2},
		Model:      format.Model{Backend: "synth", Name: "synth:1"},
		Sampling:   format.Sampling{Temperature: 0, MaxTokens: 2, Samples: 1},
		Created:    time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Tool:       "example",
	}
	w, err := format.NewWriter(&stream, h)
	if err != nil {
		log.Fatal(err)
	}
	for i, text := range []string{" Hi", " Bye"} {
		rec := format.Record{
			Index:    uint64(i),
			ID:       fmt.Sprintf("ch%d", i),
			Tokens:   []int32{int32(10 + i), 2},
			Logprobs: []float32{-0.5, -0.25},
			Text:     text,
			Finish:   "length",
		}
		if err := w.Write(&rec); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := format.NewReader(&stream)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Println(r.Header().Kind, r.Header().Model.Name)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %q %v %v\n", rec.ID, rec.Text, rec.Tokens, rec.Logprobs)
	}
	fmt.Println(r.Stats().Trailers, "checked trailer")
	// Output:
	// outputs synth:1
	// ch0 " Hi" [10 2] [-0.5 -0.25]
	// ch1 " Bye" [11 2] [-0.5 -0.25]
	// 1 checked trailer
}

// A Writer given a key signs its segment; Verify checks every segment
// against the keys the caller trusts and names the first that fails.
func ExampleVerify() {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	var stream bytes.Buffer
	h := format.Header{Kind: format.KindChallenges, Challenges: format.ChallengeSet{ID: "c0ffee", Count: 1}}
	w, err := format.NewWriter(&stream, h, format.SignWith(priv))
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(&format.Record{Index: 0, ID: "ch0", Prompt: "Once upon a time"}); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	signed := stream.Bytes()

	st, err := format.Verify(bytes.NewReader(signed), []ed25519.PublicKey{pub})
	fmt.Println(st.Signed, "of", st.Segments, "segments signed by a trusted key:", err)

	other, _, _ := ed25519.GenerateKey(nil)
	_, err = format.Verify(bytes.NewReader(signed), []ed25519.PublicKey{other})
	fmt.Println(errors.Is(err, format.ErrUntrusted))
	// Output:
	// 1 of 1 segments signed by a trusted key: <nil>
	// true
}
