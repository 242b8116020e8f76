package compare

import (
	"io"

	"github.com/pot-audit/pot/format"
)

// Batching of the candidate between the goroutine that decodes it and the
// one that scores it. A batch goes over as soon as the scorer is free, so a
// slow producer (a model answering every few seconds) is scored record by
// record; only when the scorer lags do batches fill, up to batchSize.
const (
	batchSize = 16
	batches   = 1 // channel capacity
)

// ReadAhead is the most candidate records decoded and not yet scored when
// a comparison decides: the queries a pipe upstream made in vain.
const ReadAhead = (batches + 2) * batchSize

// feed decodes a candidate stream on its own goroutine and hands its
// records over in batches.
type feed struct {
	batches chan []format.Record
	free    chan []format.Record
	done    chan struct{}
	err     error // why the stream ended early, nil at a clean end; read after batches is closed
}

// startFeed starts decoding rd, which the feed owns and closes.
func startFeed(rd *format.Reader) *feed {
	f := &feed{
		batches: make(chan []format.Record, batches),
		free:    make(chan []format.Record, batches+2),
		done:    make(chan struct{}),
	}
	go f.run(rd)
	return f
}

func (f *feed) run(rd *format.Reader) {
	defer close(f.batches)
	defer rd.Close()
	batch := f.next()
	for {
		rec, err := rd.Read()
		if err != nil {
			if err != io.EOF {
				f.err = err
			}
			if len(batch) > 0 {
				select {
				case f.batches <- batch:
				case <-f.done:
				}
			}
			return
		}
		batch = append(batch, rec)
		if len(batch) < batchSize {
			select {
			case <-f.done:
				return
			case f.batches <- batch:
				batch = f.next()
			default: // the scorer is busy: keep filling
			}
			continue
		}
		select {
		case <-f.done:
			return
		case f.batches <- batch:
			batch = f.next()
		}
	}
}

// next returns an empty batch, reusing one the scorer is done with.
func (f *feed) next() []format.Record {
	select {
	case b := <-f.free:
		return b[:0]
	default:
		return make([]format.Record, 0, batchSize)
	}
}

// recycle gives a scored batch back.
func (f *feed) recycle(b []format.Record) {
	clear(b) // drop the records' slices, so a decided run holds nothing
	select {
	case f.free <- b:
	default:
	}
}

// stop tells the decoder to stop. It does not wait: the decoder may be
// blocked reading a pipe, and the process ends without draining it, which
// is what tells potgen upstream to stop querying.
func (f *feed) stop() { close(f.done) }
