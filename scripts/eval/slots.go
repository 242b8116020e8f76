package main

import "sync"

// slots hands out the worker slots (processes or pipelines at once), to the
// waiting job of highest priority first, so that the longest jobs start
// early and the short ones fill the cores at the end of a phase. A
// priority is a function, read when a slot comes free, so that it can use
// what the run has measured since the job began to wait.
type slots struct {
	mu      sync.Mutex
	free    int
	seq     int
	waiting []*waiter
}

type waiter struct {
	prio  func() float64
	seq   int
	ready chan struct{}
}

func newSlots(n int) *slots { return &slots{free: n} }

// acquire waits for a slot; prio nil is priority 0. Among equal priorities
// the job that waited longest goes first.
func (s *slots) acquire(prio func() float64) {
	s.mu.Lock()
	if s.free > 0 && len(s.waiting) == 0 {
		s.free--
		s.mu.Unlock()
		return
	}
	if prio == nil {
		prio = func() float64 { return 0 }
	}
	w := &waiter{prio: prio, seq: s.seq, ready: make(chan struct{})}
	s.seq++
	s.waiting = append(s.waiting, w)
	s.mu.Unlock()
	<-w.ready
}

// release hands the slot to the waiting job of highest priority, or frees it.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiting) == 0 {
		s.free++
		return
	}
	best, bp := 0, s.waiting[0].prio()
	for i, w := range s.waiting[1:] {
		if p := w.prio(); p > bp || p == bp && w.seq < s.waiting[best].seq {
			best, bp = i+1, p
		}
	}
	w := s.waiting[best]
	s.waiting = append(s.waiting[:best], s.waiting[best+1:]...)
	close(w.ready)
}
