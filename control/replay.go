package control

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imustream/imustream/internal/atomicfile"
)

// Replay protection (docs/protocol.md, "Replay window").
const (
	// MaxSenders bounds the sender names the daemon keeps a window for.
	// Only commands with a valid signature create one, so only key holders
	// can use them up.
	MaxSenders = 64
	// DefaultStaleAfter is how far a command's ts may lag behind the
	// sender's clock as extrapolated, with the daemon's monotonic clock,
	// from its last accepted command; 1/2000 (500 ppm) of the time since
	// then is added for the drift of a clock that no NTP disciplines.
	DefaultStaleAfter = 30 * time.Second
)

// ErrReplayState means the replay state file is unreadable or corrupt.
var ErrReplayState = errors.New("control: replay state")

// verdict is what the replay window says about a command.
type verdict int

const (
	fresh      verdict = iota
	replayed           // ts not above the last one accepted from that name
	stale              // held back: older than the sender's clock allows
	tooMany            // a new name, and MaxSenders names are known
	persistErr         // fresh, accepted, but the state file was not updated
)

// window is one sender name's replay window.
type window struct {
	last uint64 // highest ts accepted, in this run or before a restart
	// The ts and the server's monotonic time (ns) of the latest command
	// accepted in this run; anchored is false until there is one (the
	// clock of a restarted daemon says nothing about the earlier run).
	anchorTS   uint64
	anchorMono int64
	anchored   bool
}

// ReplayState holds the replay windows. With a path it persists every
// accepted counter before the command runs, so a restart (or power loss)
// never makes an old command acceptable again. Only the command goroutine
// uses it.
type ReplayState struct {
	// StaleAfter defaults to DefaultStaleAfter.
	StaleAfter time.Duration

	path string
	w    map[string]*window
}

// NewReplayState keeps the windows in memory only: a restarted daemon
// would accept commands captured before the restart. For tests and tools.
func NewReplayState() *ReplayState { return &ReplayState{w: map[string]*window{}} }

// OpenReplayState loads the windows from path (a missing file is an empty
// state) and persists to it from then on. It writes the file once, so a
// directory that cannot take it fails now rather than at the first command.
func OpenReplayState(path string) (*ReplayState, error) {
	s := &ReplayState{path: path, w: map[string]*window{}}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrReplayState, err)
	default:
		last, err := ParseReplayState(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, path)
		}
		for name, ts := range last {
			s.w[name] = &window{last: ts}
		}
	}
	if err := s.save(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path returns the state file, "" when in memory only.
func (s *ReplayState) Path() string { return s.path }

// Len returns how many sender names have a window.
func (s *ReplayState) Len() int { return len(s.w) }

// ParseReplayState reads a state file: "NAME TS" lines, '#' comments.
func ParseReplayState(r io.Reader) (map[string]uint64, error) {
	out := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || checkFrom(f[0]) != nil {
			return nil, fmt.Errorf("%w: line %d: want NAME COUNTER, got %q", ErrReplayState, n, line)
		}
		ts, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: counter %q: %w", ErrReplayState, n, f[1], err)
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("%w: line %d: %s listed twice", ErrReplayState, n, f[0])
		}
		if len(out) == MaxSenders {
			return nil, fmt.Errorf("%w: more than %d senders", ErrReplayState, MaxSenders)
		}
		out[f[0]] = ts
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReplayState, err)
	}
	return out, nil
}

// appendReplayState formats a state file, names sorted.
func appendReplayState(b []byte, last map[string]uint64) []byte {
	names := make([]string, 0, len(last))
	for name := range last {
		names = append(names, name)
	}
	slices.Sort(names)
	b = append(b, "# imustream replay windows: sender name, last accepted ts (do not edit while the daemon runs)\n"...)
	for _, name := range names {
		b = append(b, name...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, last[name], 10)
		b = append(b, '\n')
	}
	return b
}

// check says whether a command from name with counter ts, arriving at
// daemon monotonic time now (ns), may run; it changes nothing.
func (s *ReplayState) check(name string, ts uint64, now int64) verdict {
	w := s.w[name]
	if w == nil {
		if len(s.w) >= MaxSenders {
			return tooMany
		}
		return fresh
	}
	if ts <= w.last {
		return replayed
	}
	if w.anchored {
		daemonUs := uint64(max(now-w.anchorMono, 0) / 1000)
		clientUs := ts - w.anchorTS // ts > last ≥ anchorTS
		window := s.StaleAfter
		if window <= 0 {
			window = DefaultStaleAfter
		}
		allowed := uint64(window/time.Microsecond) + daemonUs/2000
		if clientUs < daemonUs && daemonUs-clientUs > allowed {
			return stale
		}
	}
	return fresh
}

// accept records a fresh command and persists the new counter before the
// command runs. A failed write leaves the in-memory window updated (so
// this run still refuses the replay) and reports persistErr.
func (s *ReplayState) accept(name string, ts uint64, now int64) (verdict, error) {
	w := s.w[name]
	if w == nil {
		w = &window{}
		s.w[name] = w
	}
	w.last, w.anchorTS, w.anchorMono, w.anchored = ts, ts, now, true
	if s.path == "" {
		return fresh, nil
	}
	if err := s.save(); err != nil {
		return persistErr, err
	}
	return fresh, nil
}

// save replaces the state file atomically: a crash leaves the old or the
// new file, never a torn one.
func (s *ReplayState) save() error {
	last := make(map[string]uint64, len(s.w))
	for name, w := range s.w {
		last[name] = w.last
	}
	if err := atomicfile.Write(s.path, appendReplayState(nil, last), 0o600); err != nil {
		return fmt.Errorf("%w: %w", ErrReplayState, err)
	}
	return nil
}
