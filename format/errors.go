package format

import (
	"fmt"
)

// Errors a Reader or Writer returns, usually wrapped in an *Error that says
// where in the stream they happened. Each says, by its BadInput method,
// whether it condemns the input (a tool's user must give another stream)
// or the caller (a record the caller built, a closed writer); a tool turns
// that into an exit status without knowing the list.
var (
	ErrBadMagic     = inputError("format: not a pot stream")
	ErrVersion      = inputError("format: unsupported format version")
	ErrTruncated    = inputError("format: truncated stream")
	ErrChecksum     = inputError("format: frame checksum mismatch")
	ErrCorrupt      = inputError("format: corrupt stream")
	ErrNoTrailer    = inputError("format: segment has no trailer (stream incomplete)")
	ErrTrailer      = inputError("format: trailer does not match the records")
	ErrIncompatible = inputError("format: incompatible segments")
	ErrEmpty        = inputError("format: empty stream")
	ErrTooLarge     = inputError("format: size over limit")
	// ErrInvalid, returned bare, is a Writer refusing the caller's record;
	// a Reader meeting an invalid record wraps it in an *Error, which is
	// the input's fault.
	ErrInvalid = callerError("format: invalid record")
	ErrClosed  = callerError("format: writer closed")
	// ErrSignature and ErrUntrusted condemn the stream read: a signature
	// that does not verify, or a segment no trusted key signed.
	ErrSignature = inputError("format: segment signature does not verify")
	ErrUntrusted = inputError("format: segment not signed by a trusted key")
)

// sentinel is an error of the package that knows whose fault it is.
type sentinel struct {
	msg   string
	input bool
}

func inputError(msg string) error  { return &sentinel{msg: msg, input: true} }
func callerError(msg string) error { return &sentinel{msg: msg} }

func (e *sentinel) Error() string { return e.msg }

// BadInput reports whether the error condemns the stream read rather than
// the caller.
func (e *sentinel) BadInput() bool { return e.input }

// Error locates a failure in a stream. Record is the number of records the
// reader had returned before the failure, so it is the index of the first
// record that could not be read; Offset is the byte offset of the frame that
// failed, from the start of the input.
type Error struct {
	Record  int64
	Offset  int64
	Segment int    // 0-based segment the failure is in
	Detail  string // what exactly was wrong, when the sentinel alone says too little
	Err     error  // one of the sentinels above, or the input's own read error
}

// Error says where and what: "record 17 (byte 4096, segment 0): ...".
func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return fmt.Sprintf("record %d (byte %d, segment %d): %s", e.Record, e.Offset, e.Segment, msg)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// BadInput reports true: an *Error is a stream that could not be read at a
// place, which is the input's fault whatever the cause.
func (e *Error) BadInput() bool { return true }
