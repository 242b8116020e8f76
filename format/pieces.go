package format

import (
	"slices"
	"sync"
)

// MaxPiece bounds the bytes of one token: vocabularies in use have pieces
// of a few dozen bytes at most, and the bound keeps a hostile stream from
// making one entry large.
const MaxPiece = 4096

// Pieces maps token ids to the bytes they stand for: what identifies a token
// across backends, since two vocabularies may number the same bytes
// differently. Records point at a table rather than holding the bytes of
// their ids, so that a segment stores each id's bytes once.
//
// A table only grows, and the bytes first given for an id stay: an id never
// changes meaning while records point at it. A Reader gives every record of
// a segment the segment's table; a backend gives its records one table for
// all they have told it. Pieces is safe for concurrent use.
type Pieces struct {
	mu sync.RWMutex
	m  map[int32]string
}

// NewPieces returns an empty table.
func NewPieces() *Pieces { return &Pieces{} }

// Add records that id stands for b. It returns false, changing nothing, when
// id stands for other bytes already, when id is negative (no token) or when
// b is longer than MaxPiece.
func (p *Pieces) Add(id int32, b string) bool {
	if id < 0 || len(b) > MaxPiece {
		return false
	}
	p.mu.RLock()
	old, ok := p.m[id]
	p.mu.RUnlock()
	if ok {
		return old == b
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.m[id]; ok {
		return old == b
	}
	if p.m == nil {
		p.m = make(map[int32]string)
	}
	p.m[id] = b
	return true
}

// addAll adds the entries of one record under one lock, all or none: when
// an id stands for other bytes already (in the table, or earlier in ps), it
// takes back what it added and returns that entry and false.
func (p *Pieces) addAll(ps []piece) (piece, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[int32]string, len(ps))
	}
	for i := range ps {
		e := &ps[i]
		old, ok := p.m[e.id]
		e.added = !ok
		if !ok {
			p.m[e.id] = e.bytes
			continue
		}
		if old != e.bytes {
			for _, back := range ps[:i] {
				if back.added {
					delete(p.m, back.id)
				}
			}
			return *e, false
		}
	}
	return piece{}, true
}

// Get returns the bytes of id, if the table knows them. The nil table knows
// none.
func (p *Pieces) Get(id int32) (string, bool) {
	if p == nil {
		return "", false
	}
	p.mu.RLock()
	b, ok := p.m[id]
	p.mu.RUnlock()
	return b, ok
}

// Len is the number of ids the table knows.
func (p *Pieces) Len() int {
	if p == nil {
		return 0
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.m)
}

// String is the same for every table, so that printing a record (%v)
// shows its own fields and two equal records print alike whichever table
// they point at: a table is shared state, not part of one record.
func (p *Pieces) String() string { return "format.Pieces" }

// IDs returns the ids the table knows, in increasing order.
func (p *Pieces) IDs() []int32 {
	if p == nil {
		return nil
	}
	p.mu.RLock()
	ids := make([]int32, 0, len(p.m))
	for id := range p.m {
		ids = append(ids, id)
	}
	p.mu.RUnlock()
	slices.Sort(ids)
	return ids
}
