package receiver

// trackWindow is how far back (in samples) the tracker remembers which
// sequence numbers it has seen, to tell a duplicate from a late arrival.
const trackWindow = 4096

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
	prevLost uint64 // loss in earlier sessions

	Received   uint64 // samples received, duplicates included
	Duplicates uint64
	Reordered  uint64 // arrived after a later seq, filling a gap
	TooOld     uint64 // too far behind to classify; ignored
	Sessions   uint64 // distinct sessions seen (restarts + 1)
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

// Add records one sample of session with sequence number seq.
func (t *Tracker) Add(session, seq uint32) Verdict {
	t.Received++
	if !t.started || session != t.session {
		if t.started {
			t.prevLost += t.sessionLost()
		}
		*t = Tracker{
			started: true, session: session, highest: seq, unique: 1,
			prevLost: t.prevLost, Received: t.Received, Duplicates: t.Duplicates,
			Reordered: t.Reordered, TooOld: t.TooOld, Sessions: t.Sessions + 1,
		}
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
