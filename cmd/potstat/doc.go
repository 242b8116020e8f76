// Potstat describes pot streams: what a stream holds (model, challenge set,
// sampling, records, completeness), every record as JSON for jq, and
// whether a stream is intact. Run `potstat --help` for the full usage.
//
//	potstat ref.pot                   # a summary
//	potstat --json ref.pot | jq .records
//	potstat --records ref.pot | jq -r .text
//	potstat --verify *.pot            # checksums, trailers and digests
//	potstat --between ref.pot cand.pot --plot dist.svg   # how far apart
package main

import _ "embed"

// usageText is the synopsis shown by --help.
//
//go:embed help/synopsis.txt
var usageText string

// description is the body of --help: what the tool is for, how to read its
// output, and the JSON field names, which scripts may rely on.
//
//go:embed help/potstat.txt
var description string
