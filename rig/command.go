package rig

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Type is the wire type of a field: of the rig's command field, or of a
// field of a sample layout.
type Type uint8

// The types a field may have. Integers are two's complement, floats IEEE
// 754; the byte order is the spec's.
const (
	U8 Type = iota + 1
	U16
	U32
	U64
	I8
	I16
	I32
	I64
	F32
	F64
)

var typeNames = [...]string{U8: "u8", U16: "u16", U32: "u32", U64: "u64", I8: "i8", I16: "i16", I32: "i32", I64: "i64", F32: "f32", F64: "f64"}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Size is the type's length in bytes.
func (t Type) Size() int {
	switch t {
	case U8, I8:
		return 1
	case U16, I16:
		return 2
	case U32, I32, F32:
		return 4
	case U64, I64, F64:
		return 8
	}
	return 0
}

func (t Type) float() bool  { return t == F32 || t == F64 }
func (t Type) signed() bool { return t >= I8 && t <= I64 }

func parseType(s string) (Type, bool) {
	for t, n := range typeNames {
		if n != "" && n == s {
			return Type(t), true
		}
	}
	return 0, false
}

// Order is a byte order: little-endian (x86, ARM, Simulink on a PC target)
// or big-endian (LabVIEW's Flatten To String, network order).
type Order uint8

const (
	LittleEndian Order = iota
	BigEndian
)

func (o Order) String() string {
	if o == BigEndian {
		return "be"
	}
	return "le"
}

func parseOrder(s string) (Order, bool) {
	switch s {
	case "le":
		return LittleEndian, true
	case "be":
		return BigEndian, true
	}
	return 0, false
}

func (o Order) bo() binary.ByteOrder {
	if o == BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// Limits of a command spec.
const (
	// MaxPacketLen is the longest rig packet a spec may name: an Ethernet
	// frame's UDP payload without IP options.
	MaxPacketLen = 1472
	// MaxMatches bounds the match= entries of a spec.
	MaxMatches = 8
)

// DefaultCommand is the spec of the rig this front-end was made for: a
// 19-byte struct whose byte 4 (MotionCommand) is 1 for send, 0 for stop.
const DefaultCommand = "len=19,offset=4,type=u8,start=1,stop=0,order=le"

// Match is bytes that must be at an offset of a rig packet (a magic, a rig
// id), so that stray traffic of the right length is not taken for a command.
type Match struct {
	Offset int
	Bytes  []byte
}

// Command says how to read a rig's packet: its exact length, where the
// command field is, which values mean start and stop, and which bytes it
// must carry.
type Command struct {
	Len    int
	Offset int
	Type   Type
	Order  Order
	Start  float64
	// Stop is the value that stops the stream. Without one (HasStop
	// false) every value but Start stops it.
	Stop    float64
	HasStop bool
	Matches []Match
}

// Errors of a packet that is not a command; the server counts each kind.
var (
	ErrWrongLength = errors.New("rig: packet of the wrong length")
	ErrNotMatching = errors.New("rig: packet without the match bytes")
)

// Action is what a rig packet asks for.
type Action uint8

const (
	// ActionNone is a value that is neither start nor stop (only with a
	// spec that names stop=): ignored.
	ActionNone Action = iota
	ActionStart
	ActionStop
)

func (a Action) String() string {
	switch a {
	case ActionStart:
		return "start"
	case ActionStop:
		return "stop"
	}
	return "none"
}

// ParseCommand reads a spec such as DefaultCommand: comma-separated
// key=value pairs len, offset, type (u8, u16, u32, u64, i8, i16, i32, i64,
// f32, f64), start, stop (optional), order (le or be, default le) and
// any number of match=OFFSET:HEX, up to MaxMatches.
func ParseCommand(spec string) (*Command, error) {
	c := &Command{Len: -1, Offset: -1}
	var haveStart, haveType bool
	var startText, stopText string
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		k, v, ok := strings.Cut(item, "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("rig: command spec: %q is not key=value", item)
		}
		if k != "match" {
			if seen[k] {
				return nil, fmt.Errorf("rig: command spec: %s given twice", k)
			}
			seen[k] = true
		}
		var err error
		switch k {
		case "len":
			c.Len, err = parseSize(v, 1, MaxPacketLen)
		case "offset":
			c.Offset, err = parseSize(v, 0, MaxPacketLen-1)
		case "type":
			if c.Type, haveType = parseType(v); !haveType {
				err = fmt.Errorf("type %q: want u8, u16, u32, u64, i8, i16, i32, i64, f32 or f64", v)
			}
		case "order":
			var ok bool
			if c.Order, ok = parseOrder(v); !ok {
				err = fmt.Errorf("order %q: want le or be", v)
			}
		case "start":
			startText, haveStart = v, true
		case "stop":
			stopText, c.HasStop = v, true
		case "match":
			var m Match
			if m, err = parseMatch(v); err == nil {
				if len(c.Matches) == MaxMatches {
					err = fmt.Errorf("more than %d match= entries", MaxMatches)
				}
				c.Matches = append(c.Matches, m)
			}
		default:
			err = fmt.Errorf("unknown key %q (want len, offset, type, start, stop, order, match)", k)
		}
		if err != nil {
			return nil, fmt.Errorf("rig: command spec: %w", err)
		}
	}
	switch {
	case c.Len < 0:
		return nil, errors.New("rig: command spec: len= is required")
	case c.Offset < 0:
		return nil, errors.New("rig: command spec: offset= is required")
	case !haveType:
		return nil, errors.New("rig: command spec: type= is required")
	case !haveStart:
		return nil, errors.New("rig: command spec: start= is required")
	}
	if c.Offset+c.Type.Size() > c.Len {
		return nil, fmt.Errorf("rig: command spec: a %s at offset %d does not fit a packet of %d bytes", c.Type, c.Offset, c.Len)
	}
	for _, m := range c.Matches {
		if m.Offset+len(m.Bytes) > c.Len {
			return nil, fmt.Errorf("rig: command spec: match at offset %d (%d bytes) does not fit a packet of %d bytes", m.Offset, len(m.Bytes), c.Len)
		}
	}
	var err error
	if c.Start, err = c.Type.parseValue(startText); err != nil {
		return nil, fmt.Errorf("rig: command spec: start=%s: %w", startText, err)
	}
	if c.HasStop {
		if c.Stop, err = c.Type.parseValue(stopText); err != nil {
			return nil, fmt.Errorf("rig: command spec: stop=%s: %w", stopText, err)
		}
		if c.Stop == c.Start {
			return nil, errors.New("rig: command spec: start and stop are the same value")
		}
	}
	return c, nil
}

func parseSize(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q: want a whole number in %d..%d", v, lo, hi)
	}
	return n, nil
}

func parseMatch(v string) (Match, error) {
	o, h, ok := strings.Cut(v, ":")
	if !ok {
		return Match{}, fmt.Errorf("match=%s: want OFFSET:HEX, e.g. match=0:494d", v)
	}
	off, err := parseSize(o, 0, MaxPacketLen-1)
	if err != nil {
		return Match{}, fmt.Errorf("match offset %w", err)
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) == 0 {
		return Match{}, fmt.Errorf("match=%s: %q is not hex bytes", v, h)
	}
	return Match{Offset: off, Bytes: b}, nil
}

// maxExact bounds the integers a float64 holds exactly: start and stop
// values of 64-bit fields stay within it, so comparing as float64 is exact.
const maxExact = 1 << 53

// parseValue reads a start or stop value that a field of type t can hold
// exactly: an integer in range for the integer types, a number for floats.
func (t Type) parseValue(s string) (float64, error) {
	if t.float() {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) {
			return 0, errors.New("not a number")
		}
		if t == F32 && float64(float32(v)) != v {
			return 0, errors.New("not exactly representable as f32")
		}
		return v, nil
	}
	bits := t.Size() * 8
	if t.signed() {
		v, err := strconv.ParseInt(s, 0, bits)
		if err != nil || v > maxExact || v < -maxExact {
			return 0, fmt.Errorf("not a %s (a 64-bit value must be within ±2^53)", t)
		}
		return float64(v), nil
	}
	v, err := strconv.ParseUint(s, 0, bits)
	if err != nil || v > maxExact {
		return 0, fmt.Errorf("not a %s (a 64-bit value must be at most 2^53)", t)
	}
	return float64(v), nil
}

// Decode says what pkt asks for. A packet of another length than Len is
// ErrWrongLength, one without the match bytes ErrNotMatching; either is
// to be counted and ignored. Decode does not allocate.
func (c *Command) Decode(pkt []byte) (Action, error) {
	if len(pkt) != c.Len {
		return ActionNone, ErrWrongLength
	}
	for _, m := range c.Matches {
		if string(pkt[m.Offset:m.Offset+len(m.Bytes)]) != string(m.Bytes) {
			return ActionNone, ErrNotMatching
		}
	}
	v, exact := c.value(pkt[c.Offset:])
	switch {
	case exact && v == c.Start:
		return ActionStart, nil
	case !c.HasStop || exact && v == c.Stop:
		return ActionStop, nil
	}
	return ActionNone, nil
}

// value reads the command field at the start of b as a float64; exact is
// false for a 64-bit integer beyond ±2^53, which no spec names.
func (c *Command) value(b []byte) (v float64, exact bool) {
	bo := c.Order.bo()
	switch c.Type {
	case U8:
		return float64(b[0]), true
	case I8:
		return float64(int8(b[0])), true
	case U16:
		return float64(bo.Uint16(b)), true
	case I16:
		return float64(int16(bo.Uint16(b))), true
	case U32:
		return float64(bo.Uint32(b)), true
	case I32:
		return float64(int32(bo.Uint32(b))), true
	case U64:
		u := bo.Uint64(b)
		return float64(u), u <= maxExact
	case I64:
		i := int64(bo.Uint64(b))
		return float64(i), i <= maxExact && i >= -maxExact
	case F32:
		return float64(math.Float32frombits(bo.Uint32(b))), true
	case F64:
		return math.Float64frombits(bo.Uint64(b)), true
	}
	return 0, false
}

// String is the spec in canonical form; ParseCommand reads it back.
func (c *Command) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "len=%d,offset=%d,type=%s,start=%s", c.Len, c.Offset, c.Type, formatValue(c.Start))
	if c.HasStop {
		b.WriteString(",stop=" + formatValue(c.Stop))
	}
	b.WriteString(",order=" + c.Order.String())
	for _, m := range c.Matches {
		fmt.Fprintf(&b, ",match=%d:%x", m.Offset, m.Bytes)
	}
	return b.String()
}

// formatValue writes whole numbers without an exponent, since integer
// fields read them back with strconv.ParseInt.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
