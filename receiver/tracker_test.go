package receiver

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func verdictName(v Verdict) string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

var verdictNames = [...]string{InOrder: "InOrder", Gap: "Gap", Late: "Late", Duplicate: "Duplicate", Old: "Old"}

// arrival is one sample as a receiver sees it and what the tracker should
// conclude, with its loss count afterwards.
type arrival struct {
	session, seq uint32
	want         Verdict
	lost         uint64
}

func TestTracker(t *testing.T) {
	const s1, s2 = 0xa1, 0xb2
	cases := []struct {
		name     string
		arrivals []arrival
		// Counters after the last arrival.
		dup, reordered, tooOld, sessions uint64
	}{
		{
			name: "in order",
			arrivals: []arrival{
				{s1, 0, InOrder, 0}, {s1, 1, InOrder, 0}, {s1, 2, InOrder, 0}, {s1, 3, InOrder, 0},
			},
			sessions: 1,
		},
		{
			name: "starts anywhere",
			arrivals: []arrival{
				{s1, 1000, InOrder, 0}, {s1, 1001, InOrder, 0},
			},
			sessions: 1,
		},
		{
			name: "gaps",
			arrivals: []arrival{
				{s1, 0, InOrder, 0}, {s1, 1, InOrder, 0}, {s1, 4, Gap, 2}, {s1, 5, InOrder, 2}, {s1, 10, Gap, 6},
			},
			sessions: 1,
		},
		{
			name: "duplicates",
			arrivals: []arrival{
				{s1, 0, InOrder, 0}, {s1, 0, Duplicate, 0}, {s1, 1, InOrder, 0}, {s1, 1, Duplicate, 0},
				{s1, 0, Duplicate, 0}, {s1, 2, InOrder, 0},
			},
			dup: 3, sessions: 1,
		},
		{
			name: "reordering fills gaps",
			arrivals: []arrival{
				{s1, 0, InOrder, 0}, {s1, 3, Gap, 2}, {s1, 1, Late, 1}, {s1, 4, InOrder, 1}, {s1, 2, Late, 0},
				{s1, 2, Duplicate, 0}, {s1, 1, Duplicate, 0},
			},
			dup: 2, reordered: 2, sessions: 1,
		},
		{
			name: "wrap-around is contiguous",
			arrivals: []arrival{
				{s1, 0xFFFFFFFE, InOrder, 0}, {s1, 0xFFFFFFFF, InOrder, 0}, {s1, 0, InOrder, 0}, {s1, 1, InOrder, 0},
			},
			sessions: 1,
		},
		{
			name: "gap across the wrap",
			arrivals: []arrival{
				{s1, 0xFFFFFFFE, InOrder, 0}, {s1, 1, Gap, 2}, {s1, 0xFFFFFFFF, Late, 1}, {s1, 0xFFFFFFFF, Duplicate, 1},
				{s1, 0, Late, 0}, {s1, 0xFFFFFFFE, Duplicate, 0},
			},
			dup: 2, reordered: 2, sessions: 1,
		},
		{
			name: "restart keeps earlier losses",
			arrivals: []arrival{
				{s1, 0, InOrder, 0}, {s1, 2, Gap, 1}, {s1, 3, InOrder, 1},
				{s2, 500, InOrder, 1}, // a new session starts anywhere: the jump is no loss
				{s2, 501, InOrder, 1}, {s2, 504, Gap, 3}, {s2, 502, Late, 2},
				{s1, 10, InOrder, 2}, // a later session may reuse an earlier id
			},
			reordered: 1, sessions: 3,
		},
		{
			name: "same seq in a new session is no duplicate",
			arrivals: []arrival{
				{s1, 7, InOrder, 0}, {s2, 7, InOrder, 0}, {s2, 8, InOrder, 0},
			},
			sessions: 2,
		},
		{
			name: "before the first seq of the session",
			arrivals: []arrival{
				{s1, 100, InOrder, 0}, {s1, 101, InOrder, 0}, {s1, 99, Old, 0}, {s1, 102, InOrder, 0},
			},
			tooOld: 1, sessions: 1,
		},
		{
			name: "window edge",
			arrivals: []arrival{
				{s1, 0, InOrder, 0}, {s1, 5000, Gap, 4999},
				{s1, 5000 - trackWindow, Old, 4999},      // one too far behind: stays lost
				{s1, 5000 - trackWindow + 1, Late, 4998}, // the oldest the window holds
				{s1, 5000 - trackWindow + 1, Duplicate, 4998},
			},
			dup: 1, reordered: 1, tooOld: 1, sessions: 1,
		},
		{
			// After a jump of a whole window the bits of earlier seqs that
			// share a slot must not make new seqs look like duplicates.
			name: "jump of more than the window",
			arrivals: []arrival{
				{s1, 0, InOrder, 0}, {s1, 1, InOrder, 0}, {s1, 2, InOrder, 0},
				{s1, 2 + trackWindow + 10, Gap, trackWindow + 9},
				{s1, 1 + trackWindow, Late, trackWindow + 8}, // shares a slot with 1
				{s1, 2 + trackWindow, Late, trackWindow + 7}, // and with 2
				{s1, 2, Old, trackWindow + 7},
			},
			reordered: 2, tooOld: 1, sessions: 1,
		},
		{
			name: "jump of less than the window clears the slots it passes",
			arrivals: []arrival{
				{s1, 0, InOrder, 0}, {s1, 5, Gap, 4}, {s1, 4000, Gap, 3998}, {s1, 4102, Gap, 4099},
				{s1, 5 + trackWindow, Late, 4098}, // shares a slot with 5
			},
			reordered: 1, sessions: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tr Tracker
			if tr.Lost() != 0 {
				t.Fatalf("zero Tracker: Lost %d", tr.Lost())
			}
			if _, ok := tr.Session(); ok {
				t.Fatal("zero Tracker has a session")
			}
			for i, a := range tc.arrivals {
				if got := tr.Add(a.session, a.seq); got != a.want {
					t.Errorf("arrival %d (session %#x seq %d): %s, want %s", i, a.session, a.seq, verdictName(got), verdictName(a.want))
				}
				if got := tr.Lost(); got != a.lost {
					t.Errorf("after arrival %d (session %#x seq %d): Lost %d, want %d", i, a.session, a.seq, got, a.lost)
				}
			}
			last := tc.arrivals[len(tc.arrivals)-1]
			if sess, ok := tr.Session(); !ok || sess != last.session {
				t.Errorf("Session() = %#x, %v; want %#x, true", sess, ok, last.session)
			}
			if tr.Received != uint64(len(tc.arrivals)) || tr.Duplicates != tc.dup || tr.Reordered != tc.reordered ||
				tr.TooOld != tc.tooOld || tr.Sessions != tc.sessions {
				t.Errorf("Received %d, Duplicates %d, Reordered %d, TooOld %d, Sessions %d; want %d, %d, %d, %d, %d",
					tr.Received, tr.Duplicates, tr.Reordered, tr.TooOld, tr.Sessions,
					len(tc.arrivals), tc.dup, tc.reordered, tc.tooOld, tc.sessions)
			}
		})
	}
}

// TestTrackerRandom drops, duplicates and locally shuffles a known
// sequence (within the window, across the u32 wrap) and checks the
// tracker's counts against what the test did.
func TestTrackerRandom(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		n := 1000 + rng.IntN(20000)
		base := uint32(0xFFFFFFFF) - uint32(rng.IntN(2*n)) // often wraps; uint32 math: int is 32-bit on arm
		maxShift := 1 + rng.IntN(trackWindow/4)
		pDrop, pDup := rng.Float64()*0.2, rng.Float64()*0.1

		// The sample i is seq base+i; its key places it in the arrival order.
		type item struct {
			i   int
			key float64
		}
		var items []item
		items = append(items, item{0, -1}) // the first sample arrives first
		for i := 1; i < n; i++ {
			if rng.Float64() < pDrop {
				continue
			}
			items = append(items, item{i, float64(i) + rng.Float64()*float64(maxShift)})
			if rng.Float64() < pDup {
				items = append(items, item{i, float64(i) + rng.Float64()*float64(maxShift)})
			}
		}
		// Sort by key (insertion sort is fine: the order is nearly sorted).
		for a := 1; a < len(items); a++ {
			for b := a; b > 0 && items[b].key < items[b-1].key; b-- {
				items[b], items[b-1] = items[b-1], items[b]
			}
		}

		// What a perfect receiver concludes, from the arrival order alone.
		seen := make(map[int]bool)
		var wantDup, wantReordered uint64
		highest := -1
		for _, it := range items {
			switch {
			case seen[it.i]:
				wantDup++
			case it.i < highest:
				wantReordered++
			}
			seen[it.i] = true
			highest = max(highest, it.i)
		}
		wantLost := uint64(highest + 1 - len(seen))

		var tr Tracker
		for _, it := range items {
			tr.Add(0x600d, base+uint32(it.i))
		}
		if tr.Lost() != wantLost || tr.Duplicates != wantDup || tr.Reordered != wantReordered ||
			tr.TooOld != 0 || tr.Received != uint64(len(items)) || tr.Unique() != uint64(len(seen)) {
			t.Errorf("seed %d (n %d, base %#x, shift ≤ %d): Lost %d, Duplicates %d, Reordered %d, TooOld %d, Received %d, Unique %d; "+
				"want %d, %d, %d, 0, %d, %d", seed, n, base, maxShift,
				tr.Lost(), tr.Duplicates, tr.Reordered, tr.TooOld, tr.Received, tr.Unique(),
				wantLost, wantDup, wantReordered, len(items), len(seen))
		}
	}
}

// TestTrackerLongSession: a session that has run for more than 2³¹ samples
// (about 2.5 days at 10 kHz, 124 days at 200 Hz). Forward gaps of 2³⁰ stand
// in for the samples in between, which changes nothing for a tracker that
// counts serially from the session's first seq.
func TestTrackerLongSession(t *testing.T) {
	var tr Tracker
	for _, seq := range []uint32{0, 1 << 30, 2 << 30, 2<<30 + 16} {
		tr.Add(1, seq)
	}
	// A reordered sample inside the window, 2³¹ + 5 samples into the session.
	if v := tr.Add(1, 2<<30+5); v != Late {
		t.Errorf("reordered sample 2³¹+5 samples after the first: %s, want Late (a recorder drops Old samples)", verdictName(v))
	}
	// Lost only grows when no late sample fills a gap.
	prev := tr.Lost()
	for _, seq := range []uint32{3 << 30, 3<<30 + 1, 11} { // the last one is 2³² + 11 into the session
		if v := tr.Add(1, seq); v != Gap && v != InOrder {
			t.Errorf("seq %#x: %s, want Gap or InOrder", seq, verdictName(v))
		}
		if l := tr.Lost(); l < prev {
			t.Errorf("seq %#x in order: Lost went down from %d to %d", seq, prev, l)
		} else {
			prev = l
		}
	}
}

func BenchmarkTrackerAdd(b *testing.B) {
	var tr Tracker
	var seq uint32
	b.ReportAllocs()
	for b.Loop() {
		tr.Add(1, seq)
		seq++
	}
	if tr.Lost() != 0 {
		b.Fatalf("Lost %d", tr.Lost())
	}
}

// TestTrackerAdmit: a datagram far outside its session's window, or of a
// session left, is set aside without moving the expected seq; datagrams in
// a row that continue a far jump make it real.
func TestTrackerAdmit(t *testing.T) {
	const s1, s2 = 0xa1, 0xb2
	type dg struct {
		session, seq uint32
		count        int // 0: an end of stream
		admit        bool
	}
	cases := []struct {
		name       string
		dgs        []dg
		lost       uint64
		suspicious uint64
		highest    uint32
	}{
		{
			name: "forged jump ahead is set aside",
			dgs: []dg{
				{s1, 0, 1, true}, {s1, 1, 1, true}, {s1, 2 + 1<<30, 1, false}, {s1, 2, 1, true}, {s1, 3, 1, true},
			},
			suspicious: 1, highest: 3,
		},
		{
			name: "forged jump back is set aside",
			dgs: []dg{
				{s1, 1 << 20, 1, true}, {s1, 1<<20 + 1, 1, true}, {s1, 5, 1, false}, {s1, 1<<20 + 2, 1, true},
			},
			suspicious: 1, highest: 1<<20 + 2,
		},
		{
			name: "window edges",
			dgs: []dg{
				{s1, 0, 1, true}, {s1, 1 + maxJump + 1, 1, false}, {s1, 1 + maxJump, 1, true},
				// 2 + maxJump is expected now.
				{s1, 1, 1, false}, // maxJump + 1 behind
				{s1, 2, 1, true},  // maxJump behind: taken, and too old to count (Add)
			},
			lost: maxJump, suspicious: 2, highest: 1 + maxJump,
		},
		{
			name: "three in a row confirm a jump ahead: what was skipped, and set aside, is lost",
			dgs: []dg{
				{s1, 0, 2, true}, {s1, 1 << 20, 2, false}, {s1, 1<<20 + 2, 2, false}, {s1, 1<<20 + 4, 2, true},
				{s1, 1<<20 + 6, 2, true},
			},
			lost: 1<<20 + 4 - 2, suspicious: 2, highest: 1<<20 + 7,
		},
		{
			name: "three in a row confirm a jump back: a new segment, what was set aside is lost",
			dgs: []dg{
				{s1, 1 << 20, 1, true}, {s1, 1<<20 + 2, 1, true}, // 1 lost before the jump
				{s1, 7, 3, false}, {s1, 12, 3, false}, {s1, 15, 3, true}, // 10, 11 lost between: continues within the window
				{s1, 18, 1, true},
			},
			lost: 1 + 8, suspicious: 2, highest: 18,
		},
		{
			name: "a datagram in the window breaks the run",
			dgs: []dg{
				{s1, 0, 1, true}, {s1, 1 << 30, 1, false}, {s1, 1<<30 + 1, 1, false}, {s1, 1, 1, true},
				{s1, 1<<30 + 2, 1, false}, {s1, 2, 1, true},
			},
			suspicious: 3, highest: 2,
		},
		{
			name: "ends far away are set aside and confirm nothing",
			dgs: []dg{
				{s1, 0, 1, true}, {s1, 1 << 30, 0, false}, {s1, 1 << 30, 1, false}, {s1, 1<<30 + 1, 0, false},
				{s1, 1<<30 + 1, 1, false}, {s1, 1, 0, true},
			},
			suspicious: 4, highest: 0,
		},
		{
			name: "a session left does not come back",
			dgs: []dg{
				{s1, 0, 1, true}, {s2, 0, 1, true}, {s1, 1, 1, false}, {s1, 2, 1, false}, {s1, 3, 1, false},
				{s1, 4, 0, false}, {s2, 1, 1, true},
			},
			suspicious: 4, highest: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tr Tracker
			for i, d := range tc.dgs {
				if got := tr.Admit(d.session, d.seq, d.count); got != d.admit {
					t.Errorf("datagram %d (session %#x seq %d count %d): Admit %v, want %v", i, d.session, d.seq, d.count, got, d.admit)
				}
				if d.admit {
					for k := range d.count {
						tr.Add(d.session, d.seq+uint32(k))
					}
				}
			}
			if h, _ := tr.Highest(); tr.Lost() != tc.lost || tr.Suspicious != tc.suspicious || h != tc.highest {
				t.Errorf("Lost %d, Suspicious %d, Highest %d; want %d, %d, %d", tr.Lost(), tr.Suspicious, h, tc.lost, tc.suspicious, tc.highest)
			}
		})
	}
}

// FuzzTrackerAdmit feeds datagrams of a few sessions, at seqs near each
// other and far apart, through Admit and Add as a recorder does: the loss
// never wraps below zero (a count beyond 2³² per datagram), Suspicious
// counts what Admit refused, and the current session holds no more
// samples than were taken (the +1: a segment's phantom first, rebase).
func FuzzTrackerAdmit(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0x40, 0, 1, 0, 0, 1, 1})
	f.Add([]byte{0, 0, 0x10, 1, 0, 7, 0, 3, 0, 12, 0, 3, 0, 15, 0, 3, 0, 18, 0, 1})
	f.Add([]byte{0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 2, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var tr Tracker
		var taken, suspicious uint64
		datagrams := uint64(len(ops) / 4)
		for len(ops) >= 4 {
			// session (2 bits), seq (a small step or a far one), count 0..3.
			session := uint32(ops[0] & 3)
			seq := uint32(ops[1])<<24 | uint32(ops[2]) // bits far apart
			count := int(ops[3] & 3)
			ops = ops[4:]
			if !tr.Admit(session, seq, count) {
				suspicious++
				continue
			}
			for k := range count {
				if v := tr.Add(session, seq+uint32(k)); v != Duplicate && v != Old {
					taken++
				}
			}
		}
		if tr.Lost() > datagrams<<32 || tr.Suspicious != suspicious || tr.Unique() > taken+1 {
			t.Fatalf("Lost %d, Suspicious %d (counted %d), Unique %d of %d taken", tr.Lost(), tr.Suspicious, suspicious, tr.Unique(), taken)
		}
	})
}
