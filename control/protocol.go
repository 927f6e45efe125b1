// Package control is the daemon's command side: the text command protocol
// (docs/protocol.md), the command goroutine that serves it, and the client
// a control PC uses.
package control

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Protocol limits.
const (
	// MaxCommandLen bounds a command datagram; longer ones are dropped as
	// oversized without a reply.
	MaxCommandLen = 256
	maxIDLen      = 32
	MinLease      = 100 * time.Millisecond
	MaxLease      = 24 * time.Hour
)

// Verbs of the command protocol.
const (
	VerbStart  = "start"
	VerbStop   = "stop"
	VerbStatus = "status"
	VerbPing   = "ping"
	// VerbHello asks for the daemon's boot nonce, which signed commands
	// carry; it is answered unsigned, and only with a reply no longer than
	// the request (clients pad it with pad=).
	VerbHello = "hello"
	// VerbTime asks for the daemon's clocks at the command's arrival and
	// at its reply: one exchange of the time sync (docs/protocol.md,
	// "Time sync"). Its replies are never cached.
	VerbTime = "time"
)

// Reply codes of err replies.
const (
	CodeBadRequest     = "bad-request"
	CodeUnknownCommand = "unknown-command"
	CodeBadTarget      = "bad-target"
	CodeNotAllowed     = "target-not-allowed"
	CodeFull           = "full"
	CodeNotSubscribed  = "not-subscribed"
	CodeNotOwner       = "not-owner"
)

// Errors from ParseCommand and ParseReply.
var (
	ErrEmpty    = errors.New("control: empty command")
	ErrNotText  = errors.New("control: not a text command")
	ErrUnknown  = errors.New("control: unknown command")
	ErrBadArg   = errors.New("control: bad argument")
	ErrBadReply = errors.New("control: malformed reply")
	ErrTooLong  = errors.New("control: command too long")
)

// CommandError is a command the daemon refuses: its reply is
// "err CODE MESSAGE" with these fields, never text taken from another
// error. Err is the sentinel it matches with errors.Is (ErrBadArg, …).
type CommandError struct {
	Code    string // CodeBadRequest, CodeFull, …
	Message string // what the reply says after the code
	Err     error
}

func (e *CommandError) Error() string { return "control: " + e.Message }
func (e *CommandError) Unwrap() error { return e.Err }

// badArg is a bad-request refusal for an argument ParseCommand rejects.
func badArg(format string, a ...any) *CommandError {
	return &CommandError{Code: CodeBadRequest, Err: ErrBadArg, Message: "bad argument: " + fmt.Sprintf(format, a...)}
}

// Command is one parsed command line.
type Command struct {
	// ID is the optional request id that the reply echoes; a repeated id
	// from the same sender is answered again, not executed again.
	ID   string
	Verb string
	// Target is where start streams to or which stream stop ends: "" (the
	// sender's own address), ":PORT" (the sender's host, that port),
	// "HOST:PORT", or for stop "all".
	Target string
	// Lease ends the subscription unless start is repeated within it; 0 is
	// none.
	Lease time.Duration
	// From names the sender of a signed command and TS is its counter,
	// which must grow with every command from that name (the client uses
	// its wall clock in µs). Both are covered by the signature; a daemon
	// without a key ignores them.
	From string
	TS   uint64
	// Boot is the daemon's boot nonce (hex, from hello) that a signed
	// command must carry: a command captured before the daemon restarted
	// carries the old one and is refused.
	Boot string
	// Pad fills a hello to the length of its reply.
	Pad string
	// Nonce, in a signed start, keys the stream's authentication tags
	// (NonceLen bytes as lowercase hex).
	Nonce string
	// Admin (admin=1), in a signed start or stop, acts on streams another
	// sender name started; without it a name may refresh or stop only its
	// own.
	Admin bool
}

// ParseCommand parses one command line: an optional "id=ID", the verb, then
// the verb's arguments, separated by spaces or tabs. One line end ("\n" or
// "\r\n") may close it, so that `printf 'start\n' | nc -u HOST PORT` works;
// any other line break is refused: one command per datagram.
func ParseCommand(b []byte) (Command, error) {
	var c Command
	if len(b) > MaxCommandLen {
		return c, &CommandError{Code: CodeBadRequest, Err: ErrTooLong, Message: fmt.Sprintf("command too long: %d bytes, at most %d", len(b), MaxCommandLen)}
	}
	if !IsText(b) {
		return c, &CommandError{Code: CodeBadRequest, Err: ErrNotText, Message: "not a text command"}
	}
	b = TrimLineEnd(b)
	if bytes.ContainsAny(b, "\r\n") {
		return c, badArg("one command per datagram, on one line")
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return c, &CommandError{Code: CodeBadRequest, Err: ErrEmpty, Message: "empty command"}
	}
	var positional []string
	for _, f := range fields {
		k, v, isKV := strings.Cut(f, "=")
		if !isKV {
			positional = append(positional, f)
			continue
		}
		switch k {
		case "id":
			if err := checkID(v); err != nil {
				return c, err
			}
			c.ID = v
		case "lease":
			d, err := parseLease(v)
			if err != nil {
				return c, err
			}
			c.Lease = d
		case "from":
			if err := checkFrom(v); err != nil {
				return c, err
			}
			c.From = v
		case "ts":
			ts, err := strconv.ParseUint(v, 10, 64)
			if err != nil || ts == 0 {
				return c, badArg("ts %q is not a counter 1..2^64-1", v)
			}
			c.TS = ts
		case "boot":
			if !isHex(v, BootLen) {
				return c, badArg("boot %q is not %d lowercase hex digits", v, 2*BootLen)
			}
			c.Boot = v
		case "pad":
			c.Pad = v
		case "admin":
			if v != "1" {
				return c, badArg("admin takes 1")
			}
			c.Admin = true
		case "nonce":
			if !isHex(v, NonceLen) {
				return c, badArg("nonce %q is not %d lowercase hex digits", v, 2*NonceLen)
			}
			c.Nonce = v
		default:
			return c, badArg("unknown option %q", k)
		}
	}
	if len(positional) == 0 {
		return c, &CommandError{Code: CodeBadRequest, Err: ErrEmpty, Message: "empty command: no command, only options"}
	}
	c.Verb = strings.ToLower(positional[0])
	args := positional[1:]
	switch c.Verb {
	case VerbStart, VerbStop:
		if len(args) > 1 {
			return c, badArg("%s takes at most one target, got %q", c.Verb, args)
		}
		if len(args) == 1 {
			c.Target = args[0]
		}
		if c.Verb == VerbStop && c.Lease != 0 {
			return c, badArg("stop takes no lease")
		}
		if c.Verb == VerbStart && c.Target == "all" {
			return c, badArg("start needs a HOST:PORT or :PORT target, not all")
		}
	case VerbStatus, VerbPing, VerbHello, VerbTime:
		if len(args) > 0 || c.Lease != 0 {
			return c, badArg("%s takes no arguments", c.Verb)
		}
	default:
		return c, &CommandError{Code: CodeUnknownCommand, Err: ErrUnknown, Message: fmt.Sprintf("unknown command %q (want start, stop, status, ping, hello or time)", positional[0])}
	}
	if c.Pad != "" && c.Verb != VerbHello {
		return c, badArg("pad= is for hello")
	}
	if c.Nonce != "" && c.Verb != VerbStart {
		return c, badArg("nonce= is for start")
	}
	if c.Admin && c.Verb != VerbStart && c.Verb != VerbStop {
		return c, badArg("admin= is for start and stop")
	}
	return c, nil
}

// isHex reports whether v is n bytes as lowercase hex digits.
func isHex(v string, n int) bool {
	if len(v) != 2*n {
		return false
	}
	for _, ch := range v {
		if (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			return false
		}
	}
	return true
}

// TrimLineEnd removes one closing "\n" or "\r\n" from b: a lone "\r" is
// not a line end.
func TrimLineEnd(b []byte) []byte {
	if b, ok := bytes.CutSuffix(b, []byte("\n")); ok {
		return bytes.TrimSuffix(b, []byte("\r"))
	}
	return b
}

// IsReply reports whether b reads as a reply (its first word, after an
// optional id=, is "ok" or "err"): the daemon never answers one, so two
// daemons, or a daemon and a spoofed copy of itself, cannot bounce replies
// between them.
func IsReply(b []byte) bool {
	f := strings.Fields(string(b))
	if len(f) > 0 && strings.HasPrefix(f[0], "id=") {
		f = f[1:]
	}
	return len(f) > 0 && (strings.EqualFold(f[0], "ok") || strings.EqualFold(f[0], "err"))
}

// IsText reports whether b is printable ASCII text (tabs and line ends
// allowed): the daemon answers malformed text, but not binary noise.
func IsText(b []byte) bool {
	for _, ch := range b {
		if (ch < 0x20 || ch > 0x7e) && ch != '\t' && ch != '\r' && ch != '\n' {
			return false
		}
	}
	return true
}

func checkID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return badArg("id must be 1 to %d characters", maxIDLen)
	}
	if !isIDChars(id) {
		return badArg("id %q may hold only letters, digits, '-', '_' and '.'", id)
	}
	return nil
}

func isIDChars(s string) bool {
	for _, ch := range s {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return true
}

// parseLease takes a duration (see ParseDuration) in MinLease..MaxLease.
func parseLease(v string) (time.Duration, error) {
	d, err := ParseDuration(v)
	if err != nil {
		return 0, badArg("lease %q is not a duration like 5s or 1500ms", v)
	}
	if d < MinLease || d > MaxLease {
		return 0, badArg("lease %s outside %s..%s", v, MinLease, MaxLease)
	}
	return d, nil
}

// ErrDuration is returned by ParseDuration.
var ErrDuration = errors.New("control: not a duration")

// ParseDuration reads a duration strictly: plain seconds ("5", "2.5"), or
// numbers each with a unit, h, m, s, ms, us (µs) or ns, the units in
// decreasing order and each once ("1m30s", "1500ms"). No sign, no
// underscores, no exponent: Go's time.ParseDuration takes "1h1h" as 2 h
// and strconv.ParseFloat takes "1_000", neither of which a controller
// means.
func ParseDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, ErrDuration
	}
	if d, ok := decimal(v, time.Second); ok {
		return d, nil // plain seconds
	}
	units := []struct {
		name string
		d    time.Duration
	}{{"h", time.Hour}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}, {"us", time.Microsecond}, {"µs", time.Microsecond}, {"ns", time.Nanosecond}}
	var total time.Duration
	last := time.Duration(1<<63 - 1) // the previous unit: each must be smaller
	for v != "" {
		i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, ErrDuration
		}
		num := v[:i]
		v = v[i:]
		found := false
		for _, u := range units {
			if strings.HasPrefix(v, u.name) && u.d < last {
				d, ok := decimal(num, u.d)
				if !ok {
					return 0, ErrDuration
				}
				total += d
				last, v, found = u.d, v[len(u.name):], true
				break
			}
		}
		if !found || total > 100*MaxLease {
			return 0, ErrDuration
		}
	}
	return total, nil
}

// decimal reads digits with at most one decimal point inside them as that
// many units, exactly (no floating point: "4.1" is 4.1 s to the ns),
// truncated below a nanosecond, and only up to 100 × MaxLease.
func decimal(s string, unit time.Duration) (time.Duration, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || dot && frac == "" {
		return 0, false
	}
	var d time.Duration
	for _, r := range whole {
		if r < '0' || r > '9' {
			return 0, false
		}
		d = d*10 + time.Duration(r-'0')*unit
		if d > 100*MaxLease {
			return 0, false
		}
	}
	for _, r := range frac {
		if r < '0' || r > '9' {
			return 0, false
		}
		unit /= 10
		d += time.Duration(r-'0') * unit
	}
	return d, true
}

// String formats c as the command line a client sends (without newline).
func (c Command) String() string {
	var b strings.Builder
	if c.ID != "" {
		b.WriteString("id=" + c.ID + " ")
	}
	b.WriteString(c.Verb)
	if c.Target != "" {
		b.WriteString(" " + c.Target)
	}
	if c.Lease != 0 {
		b.WriteString(" lease=" + c.Lease.String())
	}
	if c.Nonce != "" {
		b.WriteString(" nonce=" + c.Nonce)
	}
	if c.Admin {
		b.WriteString(" admin=1")
	}
	if c.From != "" {
		b.WriteString(" from=" + c.From)
	}
	if c.TS != 0 {
		b.WriteString(" ts=" + strconv.FormatUint(c.TS, 10))
	}
	if c.Boot != "" {
		b.WriteString(" boot=" + c.Boot)
	}
	if c.Pad != "" {
		b.WriteString(" pad=" + c.Pad)
	}
	return b.String()
}

// Field is one key=value pair of an ok reply.
type Field struct{ Key, Value string }

// Reply is the daemon's answer: "ok [id=ID] VERB key=value…" or
// "err [id=ID] CODE message".
type Reply struct {
	OK   bool
	ID   string
	Verb string // the command's verb (ok) or the error code (err)
	// Fields of an ok reply, in order.
	Fields []Field
	// Message of an err reply.
	Message string
}

// Get returns the value of key in an ok reply.
func (r Reply) Get(key string) (string, bool) {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// String formats r as sent on the wire, newline-terminated so that nc
// prints it on a line of its own.
func (r Reply) String() string { return r.body() + "\n" }

// body is the reply without its newline: what a signature covers.
func (r Reply) body() string {
	var b strings.Builder
	if r.OK {
		b.WriteString("ok")
	} else {
		b.WriteString("err")
	}
	if r.ID != "" {
		b.WriteString(" id=" + r.ID)
	}
	b.WriteString(" " + r.Verb)
	for _, f := range r.Fields {
		b.WriteString(" " + f.Key + "=" + f.Value)
	}
	if r.Message != "" {
		b.WriteString(" " + r.Message)
	}
	return b.String()
}

// ParseReply parses a reply datagram.
func ParseReply(b []byte) (Reply, error) {
	var r Reply
	if !IsText(b) {
		return r, ErrBadReply
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return r, fmt.Errorf("%w: %q", ErrBadReply, b)
	}
	switch fields[0] {
	case "ok":
		r.OK = true
	case "err":
	default:
		return r, fmt.Errorf("%w: starts with %q, want ok or err", ErrBadReply, fields[0])
	}
	rest := fields[1:]
	if id, ok := strings.CutPrefix(rest[0], "id="); ok {
		if checkID(id) != nil {
			return r, fmt.Errorf("%w: bad id %q", ErrBadReply, id)
		}
		r.ID = id
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return r, fmt.Errorf("%w: no verb", ErrBadReply)
	}
	r.Verb, rest = rest[0], rest[1:]
	if !r.OK {
		r.Message = strings.Join(rest, " ")
		return r, nil
	}
	for _, f := range rest {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return r, fmt.Errorf("%w: field %q is not key=value", ErrBadReply, f)
		}
		r.Fields = append(r.Fields, Field{k, v})
	}
	return r, nil
}
