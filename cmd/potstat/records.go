package main

import (
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/pot-audit/pot/format"
)

// records prints every record of one file as a JSON object a line, as the
// records are read: memory stays flat whatever the stream's length.
func (t *tool) records(name string) error {
	in, err := t.env.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	// Flush what is printed before waiting for more input, so that a
	// consumer downstream of a slow producer sees records as they come,
	// while a fast input still gets large writes.
	src := &flushBeforeRead{r: in, w: t.out}
	r, err := format.NewReader(src, t.once...)
	if err != nil {
		if src.err != nil {
			return writeFailed(src.err)
		}
		return streamError(in, err)
	}
	defer r.Close()
	var b []byte
	for {
		rec, err := r.Read()
		if src.err != nil {
			return writeFailed(src.err)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if ferr := t.out.Flush(); ferr != nil {
				return writeFailed(ferr)
			}
			return streamError(in, err)
		}
		b = appendRecordJSON(b[:0], &rec)
		if _, err := t.out.Write(b); err != nil {
			return writeFailed(err)
		}
	}
	if err := t.out.Flush(); err != nil {
		return writeFailed(err)
	}
	return nil
}

// flushBeforeRead flushes w each time more input is read from r. The
// first write error is kept and reading stops.
type flushBeforeRead struct {
	r   io.Reader
	w   interface{ Flush() error }
	err error
}

func (f *flushBeforeRead) Read(p []byte) (int, error) {
	if f.err == nil {
		f.err = f.w.Flush()
	}
	if f.err != nil {
		return 0, f.err
	}
	return f.r.Read(p)
}

// appendRecordJSON appends rec as one line of JSON. It is written by hand
// for speed and to turn -Inf into null, which encoding/json refuses.
func appendRecordJSON(b []byte, r *format.Record) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendUint(b, r.Index, 10)
	b = append(b, `,"id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"sample":`...)
	b = strconv.AppendUint(b, uint64(r.Sample), 10)
	b = append(b, `,"seed":`...)
	b = strconv.AppendUint(b, r.Seed, 10)
	if r.Prompt != "" {
		b = appendString(append(b, `,"prompt":`...), r.Prompt)
	}
	if len(r.Tokens) > 0 {
		b = appendInts(append(b, `,"tokens":`...), r.Tokens)
	}
	if len(r.Logprobs) > 0 {
		b = appendFloats(append(b, `,"logprobs":`...), r.Logprobs)
	}
	if r.TopK > 0 {
		b = strconv.AppendInt(append(b, `,"top_k":`...), int64(r.TopK), 10)
		if len(r.TopTokens) > 0 {
			b = append(b, `,"top_tokens":[`...)
			for i := 0; i+r.TopK <= len(r.TopTokens); i += r.TopK {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendInts(b, r.TopTokens[i:i+r.TopK])
			}
			b = append(b, ']')
		}
		if len(r.TopLogprobs) > 0 {
			b = append(b, `,"top_logprobs":[`...)
			for i := 0; i+r.TopK <= len(r.TopLogprobs); i += r.TopK {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendFloats(b, r.TopLogprobs[i:i+r.TopK])
			}
			b = append(b, ']')
		}
	}
	if r.Text != "" {
		b = appendString(append(b, `,"text":`...), r.Text)
	}
	if r.Finish != "" {
		b = appendString(append(b, `,"finish":`...), r.Finish)
	}
	if r.Latency != 0 {
		b = strconv.AppendFloat(append(b, `,"latency_ms":`...), r.Latency.Seconds()*1000, 'f', -1, 64)
	}
	if r.Attempts != 0 {
		b = strconv.AppendInt(append(b, `,"attempts":`...), int64(r.Attempts), 10)
	}
	if r.Err != "" {
		b = appendString(append(b, `,"error":`...), r.Err)
	}
	return append(b, "}\n"...)
}

func appendInts(b []byte, v []int32) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

// appendFloats writes float32 values in their shortest form; JSON has no
// infinities nor NaN, so those are null.
func appendFloats(b []byte, v []float32) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8, which the format
// never hands out, would become U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript source: escape them as
			// encoding/json does.
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
