package format

import (
	"errors"
	"fmt"
)

// Errors a Reader or Writer returns, usually wrapped in an *Error that says
// where in the stream they happened.
var (
	ErrBadMagic     = errors.New("format: not a pot stream")
	ErrVersion      = errors.New("format: unsupported format version")
	ErrTruncated    = errors.New("format: truncated stream")
	ErrChecksum     = errors.New("format: frame checksum mismatch")
	ErrCorrupt      = errors.New("format: corrupt stream")
	ErrNoTrailer    = errors.New("format: segment has no trailer (stream incomplete)")
	ErrTrailer      = errors.New("format: trailer does not match the records")
	ErrIncompatible = errors.New("format: incompatible segments")
	ErrEmpty        = errors.New("format: empty stream")
	ErrTooLarge     = errors.New("format: size over limit")
	ErrInvalid      = errors.New("format: invalid record")
	ErrClosed       = errors.New("format: writer closed")
	ErrSignature    = errors.New("format: segment signature does not verify")
	ErrUntrusted    = errors.New("format: segment not signed by a trusted key")
)

// Error locates a failure in a stream. Record is the number of records the
// reader had returned before the failure, so it is the index of the first
// record that could not be read; Offset is the byte offset of the frame that
// failed, from the start of the input.
type Error struct {
	Record  int64
	Offset  int64
	Segment int    // 0-based segment the failure is in
	Detail  string // what exactly was wrong, when the sentinel alone says too little
	Err     error  // one of the sentinels above
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return fmt.Sprintf("record %d (byte %d, segment %d): %s", e.Record, e.Offset, e.Segment, msg)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }
