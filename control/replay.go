package control

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Replay protection (docs/protocol.md, "Replay protection"). A signed
// command carries the daemon's boot nonce, drawn at every start and
// learned with an unsigned hello, and a counter that must grow with every
// command from its sender name. A capture from before a restart carries an
// old boot nonce and is refused after it, without the daemon writing
// anything to disk; within one boot the counters are kept in memory.
const (
	// MaxSenders bounds the sender names the daemon keeps a counter for.
	// Only commands with a valid signature create one, so only key holders
	// can use them up.
	MaxSenders = 64
	// SenderIdle is how long a name must have been silent before its
	// counter may be forgotten to make room for a new name, once
	// MaxSenders are known. A command of the forgotten name captured
	// before still needs this boot's nonce and a counter above the last
	// one the daemon accepted after it, which no longer exists: so within
	// one boot a capture older than SenderIdle may run again once its
	// name is forgotten (docs/security.md says so).
	SenderIdle = 10 * time.Minute
	// BootLen is the boot nonce's length in bytes (hex on the wire).
	BootLen = 8
)

// verdict is what the replay state says about a command.
type verdict int

const (
	fresh     verdict = iota
	replayed          // ts not above the last one accepted from that name
	wrongBoot         // signed for another boot of the daemon
	tooMany           // a new name, and MaxSenders names are in use
)

// window is one sender name's counter.
type window struct {
	last     uint64 // highest ts accepted in this boot
	lastSeen int64  // the server's monotonic time of that command, ns
}

// ReplayState holds the boot nonce and the counters, in memory. Only the
// command goroutine uses it.
type ReplayState struct {
	boot string
	w    map[string]*window
}

// NewReplayState draws a new boot nonce.
func NewReplayState() *ReplayState {
	var b [BootLen]byte
	_, _ = rand.Read(b[:])
	return &ReplayState{boot: hex.EncodeToString(b[:]), w: map[string]*window{}}
}

// Boot returns the boot nonce, as hex.
func (s *ReplayState) Boot() string { return s.boot }

// Len returns how many sender names have a counter.
func (s *ReplayState) Len() int { return len(s.w) }

// check says whether a command from name for boot with counter ts,
// arriving at the server's monotonic time now (ns), may run; it changes
// nothing but may forget idle names to make room for a new one.
func (s *ReplayState) check(name, boot string, ts uint64, now int64) verdict {
	if boot != s.boot {
		return wrongBoot
	}
	w := s.w[name]
	if w == nil {
		if len(s.w) >= MaxSenders && !s.forgetIdle(now) {
			return tooMany
		}
		return fresh
	}
	if ts <= w.last {
		return replayed
	}
	return fresh
}

// forgetIdle drops the names silent for SenderIdle and reports whether
// any was.
func (s *ReplayState) forgetIdle(now int64) bool {
	n := len(s.w)
	for name, w := range s.w {
		if now-w.lastSeen > int64(SenderIdle) {
			delete(s.w, name)
		}
	}
	return len(s.w) < n
}

// accept records a fresh command.
func (s *ReplayState) accept(name string, ts uint64, now int64) {
	w := s.w[name]
	if w == nil {
		w = &window{}
		s.w[name] = w
	}
	w.last, w.lastSeen = ts, now
}
