package receiver

// trackWindow is how far back (in samples) the tracker remembers which
// sequence numbers it has seen, to tell a duplicate from a late arrival.
const trackWindow = 4096

// maxJump is how far (in samples) a datagram's seq may lie from the one
// expected in its session and be taken at its word: 2¹⁶ is 5.5 min at
// 200 Hz, 6.5 s at 10 kHz. A farther one is a suspicious new segment
// (docs/protocol.md, receiver rule 3): one forged or corrupted datagram
// must not turn into billions of lost samples.
const maxJump = 1 << 16

// confirmRun is how many datagrams in a row, each continuing the one
// before, make a far jump real.
const confirmRun = 3

// maxLeft is how many earlier sessions a tracker remembers: their
// datagrams are stale (replayed, or held up across a restart).
const maxLeft = 8

// Tracker counts loss, duplication and reordering of a stream from its
// sample sequence numbers, as a receiver sees them. It allocates nothing.
// The zero value is ready to use.
type Tracker struct {
	started  bool
	session  uint32
	highest  uint32 // highest seq seen in this session (serial arithmetic)
	span     uint64 // samples from the first seq to highest; 64 bits so a days-long session does not wrap
	seen     [trackWindow / 64]uint64
	unique   uint64 // distinct seqs in this session
	prevLost uint64 // loss in earlier sessions and segments
	cand     jump   // a far jump that datagrams in a row may confirm
	left     [maxLeft]uint32
	nLeft    uint64 // sessions left; the latest maxLeft are in left

	Received   uint64 // samples received, duplicates included
	Duplicates uint64
	Reordered  uint64 // arrived after a later seq, filling a gap
	TooOld     uint64 // too far behind to classify; ignored
	Sessions   uint64 // distinct sessions seen (restarts + 1)
	// Suspicious counts the datagrams Admit set aside: a seq far outside
	// its session's window, or a session already left.
	Suspicious uint64
}

// jump is a run of datagrams far from the expected seq.
type jump struct {
	first, next uint32 // the run's first seq, and the seq after its last
	run         int    // datagrams in the run; 0: none
}

// Verdict is what Add concluded about one sample.
type Verdict uint8

// Verdicts returned by Add.
const (
	InOrder Verdict = iota
	Gap             // in order, but after missing seqs
	Late            // fills an earlier gap
	Duplicate
	Old
)

// Admit says whether to take a datagram of count samples from seq in
// session (count 0: an end of stream, whose seq is the next sample's)
// before its samples go to Add. It sets aside, and counts in Suspicious,
// a datagram of a session already left and one whose seq lies more than
// maxJump from the one expected: the expected seq does not move on the
// strength of one datagram. confirmRun datagrams of samples in a row, each
// continuing the one before, make such a jump real: an ahead jump counts
// the samples skipped (those set aside too) as lost, as Add does; a jump
// back starts a new segment of the session, with the samples set aside
// counted lost. Add alone takes every seq at its word.
func (t *Tracker) Admit(session, seq uint32, count int) bool {
	if !t.started || session != t.session {
		if t.wasLeft(session) {
			t.Suspicious++
			return false
		}
		return true
	}
	if d := int32(seq - (t.highest + 1)); -maxJump <= d && d <= maxJump {
		if count > 0 {
			t.cand = jump{} // the run is broken
		}
		return true
	}
	if count == 0 { // an end never confirms a jump
		t.Suspicious++
		return false
	}
	if c := int32(seq - t.cand.next); t.cand.run > 0 && 0 <= c && c < trackWindow {
		t.cand.run++
	} else {
		t.cand = jump{first: seq, run: 1}
	}
	t.cand.next = seq + uint32(count)
	if t.cand.run < confirmRun {
		t.Suspicious++
		return false
	}
	if int32(seq-t.highest) < 0 {
		t.rebase(seq, uint64(seq-t.cand.first))
	}
	t.cand = jump{}
	return true
}

// rebase starts a new segment of the session at seq, after lost samples
// set aside: as if seq-1 had been the segment's first, so that Add takes
// seq in order.
func (t *Tracker) rebase(seq uint32, lost uint64) {
	t.prevLost += t.sessionLost() + lost
	t.highest, t.span, t.unique = seq-1, 0, 1
	t.seen = [trackWindow / 64]uint64{}
	t.mark(seq - 1)
}

func (t *Tracker) wasLeft(session uint32) bool {
	for i := range min(t.nLeft, maxLeft) {
		if t.left[i] == session {
			return true
		}
	}
	return false
}

// Add records one sample of session with sequence number seq.
func (t *Tracker) Add(session, seq uint32) Verdict {
	t.Received++
	if !t.started || session != t.session {
		if t.started {
			t.prevLost += t.sessionLost()
			t.left[t.nLeft%maxLeft] = t.session
			t.nLeft++
		}
		t.started, t.session, t.highest, t.span, t.unique = true, session, seq, 0, 1
		t.seen, t.cand = [trackWindow / 64]uint64{}, jump{}
		t.Sessions++
		t.mark(seq)
		return InOrder
	}
	ahead := int32(seq - t.highest) // serial-number arithmetic (RFC 1982)
	switch {
	case ahead > 0:
		if ahead >= trackWindow {
			t.seen = [trackWindow / 64]uint64{}
		} else {
			for s := t.highest + 1; s != seq; s++ {
				t.clear(s)
			}
		}
		t.highest = seq
		t.span += uint64(ahead)
		t.mark(seq)
		t.unique++
		if ahead > 1 {
			return Gap
		}
		return InOrder
	case -int64(ahead) >= trackWindow || uint64(-int64(ahead)) > t.span:
		t.TooOld++
		return Old
	case t.isSet(seq):
		t.Duplicates++
		return Duplicate
	default:
		t.mark(seq)
		t.unique++
		t.Reordered++
		return Late
	}
}

func (t *Tracker) mark(s uint32)       { t.seen[s%trackWindow/64] |= 1 << (s % 64) }
func (t *Tracker) clear(s uint32)      { t.seen[s%trackWindow/64] &^= 1 << (s % 64) }
func (t *Tracker) isSet(s uint32) bool { return t.seen[s%trackWindow/64]&(1<<(s%64)) != 0 }

func (t *Tracker) sessionLost() uint64 {
	return t.span + 1 - t.unique
}

// Unique returns the number of distinct samples received in the current
// session.
func (t *Tracker) Unique() uint64 { return t.unique }

// Lost returns the samples missing between the first and the highest seq
// of every session seen (a sample still in flight counts until it arrives).
func (t *Tracker) Lost() uint64 {
	if !t.started {
		return 0
	}
	return t.prevLost + t.sessionLost()
}

// Session returns the current session id and whether any sample was seen.
func (t *Tracker) Session() (uint32, bool) { return t.session, t.started }

// Highest returns the highest seq of the current session and whether any
// sample was seen.
func (t *Tracker) Highest() (uint32, bool) { return t.highest, t.started }
