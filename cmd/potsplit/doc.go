// Potsplit cuts a pot stream (challenges or outputs) into shards, so that
// work fans out over several processes or machines; cat joins the shards
// again. Run `potsplit --help` for the full usage.
//
//	potsplit -n 8 -o 'ch-{}.pot' ch.pot      # 8 shards, a challenge's samples together
//	potsplit --records 1000 -o 'part-{}.pot' ref.pot
//	potsplit --size 64M -o 'part-{}.pot' - < big.pot
package main

import _ "embed"

// usageText is the synopsis shown by --help.
//
//go:embed help/synopsis.txt
var usageText string

// description is the body of --help: what the tool is for and how to use it.
//
//go:embed help/potsplit.txt
var description string
