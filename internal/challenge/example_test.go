package challenge_test

import (
	"fmt"
	"log"

	"github.com/pot-audit/pot/internal/challenge"
)

func ExampleNewSet() {
	// A real audit reads its key with challenge.ReadKeyFile; this one is
	// written out so that the output below is fixed.
	key, err := challenge.ParseKey([]byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"))
	if err != nil {
		log.Fatal(err)
	}
	family, err := challenge.Templates("templates")
	if err != nil {
		log.Fatal(err)
	}
	set, err := challenge.NewSet(key, "", family, 3)
	if err != nil {
		log.Fatal(err)
	}
	h := set.Header()
	fmt.Println("set", h.ID, "run", h.RunID, "family", h.Family, "count", h.Count)
	for i := range set.Len() {
		c := set.Challenge(i)
		fmt.Printf("%d %s %q\n", c.Index, c.ID, c.Prompt)
	}
	fmt.Println(key) // keys never print
	// Output:
	// set 4b7bc2b3cdf27dee run default family templates/v1 count 3
	// 0 8d6454b09bd989d7 "Who ate the peach that Clara and Danny left in the pet shop?"
	// 1 cb77bff4be006576 "The kangaroo had never seen a warm glove in the castle before. It sniffed it and"
	// 2 e2af75b159244015 "Once upon a time, in the tall mountains, there lived a cheerful butterfly."
	// challenge.Key(redacted)
}

func ExampleCommitment() {
	key, err := challenge.ParseKey([]byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))
	if err != nil {
		log.Fatal(err)
	}
	// Published before the audit; after it, the key is revealed and anyone
	// can check that it is the one committed to.
	fmt.Println(challenge.Commitment(key))
	// Output:
	// 822992e889ae22de49cc5279619bc27ac025d361afb93d1922f3b1d852bc7153
}

func ExampleSampleSeed() {
	// Three samples of one challenge under potgen's --seed 42.
	for k := range 3 {
		fmt.Printf("%#016x\n", challenge.SampleSeed(17487705348985667124, k, 42))
	}
	// Output:
	// 0x77af42c65e184d77
	// 0xca0680b6531bea8e
	// 0x73aa24c6e3e80ccf
}

func ExampleVerify() {
	key, err := challenge.ParseKey([]byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))
	if err != nil {
		log.Fatal(err)
	}
	family, err := challenge.Templates("templates/v1")
	if err != nil {
		log.Fatal(err)
	}
	set, err := challenge.NewSet(key, "", family, 5)
	if err != nil {
		log.Fatal(err)
	}
	// What a stream would hold: its header and records, one tampered.
	hdr := set.Header()
	rec := set.Record(3)
	rec.Prompt = "Tell me a secret."

	// Once the key is revealed, anyone can check the stream against it.
	v, err := challenge.NewVerifier(key, hdr, family)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		r := set.Record(i)
		fmt.Println(v.Check(&r))
	}
	fmt.Println(v.Check(&rec))
	// Output:
	// <nil>
	// <nil>
	// <nil>
	// challenge: record 3 (challenge 3, sample 0): prompt "Tell me a secret.", want "Olivia was a slow crab who lived in the toy shop. Every morning, Olivia liked to"...
}
