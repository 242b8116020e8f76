package compare

import (
	"strconv"

	"github.com/pot-audit/pot/format"
)

// Key is what joins a candidate record with its reference record, in every
// tool: the challenge and the sample.
type Key struct {
	ID     string
	Sample uint32
}

// KeyOf returns the key of r. A record without a challenge id (a stream
// made by hand) joins on its challenge index instead, written so that it
// can never be taken for an id: ids are hex digits.
func KeyOf(r *format.Record) Key { return Key{joinID(r), r.Sample} }

// joinID is the challenge part of r's key.
func joinID(r *format.Record) string {
	if r.ID != "" {
		return r.ID
	}
	return "#" + strconv.FormatUint(r.Index, 10)
}
