package main

import (
	"sync"
	"testing"
)

// With one slot taken, waiting jobs get it in the order of their
// priorities, and equal priorities in the order they came.
func TestSlotsPriority(t *testing.T) {
	s := newSlots(1)
	s.acquire(nil)
	prios := []float64{1, 5, 3, 5, 0}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i, p := range prios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.acquire(func() float64 { return p })
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			s.release()
		}()
		// Wait until it is queued, so that the arrival order is known.
		for {
			s.mu.Lock()
			n := len(s.waiting)
			s.mu.Unlock()
			if n == i+1 {
				break
			}
		}
	}
	s.release()
	wg.Wait()
	want := []int{1, 3, 2, 0, 4}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if s.free != 1 {
		t.Errorf("%d slots free at the end, want 1", s.free)
	}
}
