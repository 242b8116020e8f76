package compare

import "hash/maphash"

// key joins a candidate record with its reference record.
type key struct {
	id     string
	sample uint32
}

// refIndex maps (id, sample) to a record's position. It is keyed by a
// 64-bit hash, a map without pointers, which is smaller than one keyed by
// strings and which the garbage collector does not scan; the rare keys
// whose hash another key has already taken go to the overflow map.
type refIndex struct {
	seed     maphash.Seed
	byHash   map[uint64]int32
	overflow map[key]int32
}

func (x *refIndex) hash(id string, sample uint32) uint64 {
	// Distinct samples of one id never collide: the odd multiplier maps
	// every difference of two uint32 to a non-zero difference.
	return maphash.String(x.seed, id) + uint64(sample)*0x9e3779b97f4a7c15
}

// find returns the position of (id, sample) among v's records.
func (x *refIndex) find(v *view, id string, sample uint32) (int32, bool) {
	i, ok := x.byHash[x.hash(id, sample)]
	if !ok {
		return 0, false
	}
	if v.is(int(i), id, sample) {
		return i, true
	}
	i, ok = x.overflow[key{id, sample}]
	return i, ok
}

// add records that (id, sample), not in the index yet, is record i.
func (x *refIndex) add(v *view, i int32, id string, sample uint32) {
	if x.byHash == nil {
		x.byHash = map[uint64]int32{}
	}
	h := x.hash(id, sample)
	if _, taken := x.byHash[h]; !taken {
		x.byHash[h] = i
		return
	}
	if x.overflow == nil {
		x.overflow = map[key]int32{}
	}
	x.overflow[key{id, sample}] = i
}
