// Package llama is pot's pure-Go transformer engine for the Llama family: it
// loads llama2.c checkpoints and GGUF files (or generates a seeded synthetic
// model), tokenizes like SentencePiece, and samples seeded continuations while
// recording the raw log-probabilities of every position.
//
// A Model is read-only once built and may serve any number of goroutines;
// each generation keeps its own State (activations and KV cache). The engine
// knows nothing of pot's streams: callers turn its Output into records.
package llama
