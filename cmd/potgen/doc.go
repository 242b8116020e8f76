// Command potgen asks a model (the built-in engine on a local file, an
// OpenAI-compatible server, or a command) for seeded outputs on a secret,
// pre-committed challenge set and writes them as a pot stream. Its
// subcommands make keys and challenge streams, verify streams against a
// revealed key, and score a stream's outputs with a trusted model.
//
// Run potgen --help for the usage text, which is help/potgen.txt.
package main

import _ "embed"

// usage is the help text; %[1]d is generate.Slack and %[2]d compare.ReadAhead.
//
//go:embed help/potgen.txt
var usage string

// keygenUsage is the help text in help/keygen.txt.
//
//go:embed help/keygen.txt
var keygenUsage string

// challengesUsage is the help text in help/challenges.txt.
//
//go:embed help/challenges.txt
var challengesUsage string

// verifyUsage is the help text in help/verify.txt.
//
//go:embed help/verify.txt
var verifyUsage string

// signkeyUsage is the help text in help/signkey.txt.
//
//go:embed help/signkey.txt
var signkeyUsage string
