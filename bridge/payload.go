package bridge

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/imustream/imustream/telemetry"
)

// The headers of a message on PREFIX.DEVICE.imu.
const (
	HeaderDevice  = "Imustream-Device"  // the device's name, as in the subject
	HeaderSession = "Imustream-Session" // the session of every datagram, 8 hex digits
	HeaderSeq     = "Imustream-Seq"     // the seq of the first datagram, decimal
)

// MaxNameLen bounds a device name: it is one subject token.
const MaxNameLen = 64

// Meta is what a message's headers say.
type Meta struct {
	Device  string
	Session uint32
	Seq     uint32
}

// Errors of the payload and header decoders.
var (
	ErrName     = errors.New("bridge: device name must be 1..64 of A-Z a-z 0-9 _ -")
	ErrHeader   = errors.New("bridge: missing or malformed header")
	ErrPayload  = errors.New("bridge: payload is not whole datagrams")
	ErrMismatch = errors.New("bridge: datagram disagrees with the message headers")
)

// CheckName says whether name can be a device's subject token.
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return ErrName
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return ErrName
		}
	}
	return nil
}

// NameFor turns a device address or host name into a name CheckName
// accepts: "pi-3.local:7600" becomes "pi-3_local_7600".
func NameFor(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > MaxNameLen {
		b = b[:MaxNameLen]
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// Subject is the subject of a device's samples (kind "imu") or status
// (kind "status").
func Subject(prefix, device, kind string) string { return prefix + "." + device + "." + kind }

// FormatSession is the HeaderSession value of session.
func FormatSession(session uint32) string { return fmt.Sprintf("%08x", session) }

// ParseMeta decodes a message's headers; get is the header lookup
// (nats.Header.Get).
func ParseMeta(get func(string) string) (Meta, error) {
	m := Meta{Device: get(HeaderDevice)}
	if err := CheckName(m.Device); err != nil {
		return Meta{}, fmt.Errorf("%w: %s", ErrHeader, HeaderDevice)
	}
	s := get(HeaderSession)
	if len(s) != 8 {
		return Meta{}, fmt.Errorf("%w: %s", ErrHeader, HeaderSession)
	}
	session, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return Meta{}, fmt.Errorf("%w: %s", ErrHeader, HeaderSession)
	}
	q := get(HeaderSeq)
	if q == "" || len(q) > 10 || strings.TrimLeft(q, "0123456789") != "" || len(q) > 1 && q[0] == '0' {
		return Meta{}, fmt.Errorf("%w: %s", ErrHeader, HeaderSeq)
	}
	seq, err := strconv.ParseUint(q, 10, 32)
	if err != nil {
		return Meta{}, fmt.Errorf("%w: %s", ErrHeader, HeaderSeq)
	}
	m.Session, m.Seq = uint32(session), uint32(seq)
	return m, nil
}

// datagramLen is the length of the datagram at the start of b, from its
// header (docs/protocol.md: a datagram is self-delimiting).
func datagramLen(b []byte) (int, telemetry.Header, error) {
	h, err := telemetry.ParseHeader(b)
	if err != nil {
		return 0, h, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	n := telemetry.HeaderLen + int(h.Count)*int(h.SampleLen)
	if h.Flags&telemetry.FlagTagged != 0 {
		n += telemetry.TagLen
	}
	if n > len(b) {
		return 0, h, fmt.Errorf("%w: a datagram of %d bytes in %d", ErrPayload, n, len(b))
	}
	return n, h, nil
}

// Next splits the first datagram off payload: it returns the datagram,
// its header and the rest. An empty payload is an error: a message holds
// at least one datagram.
func Next(payload []byte) (dg []byte, h telemetry.Header, rest []byte, err error) {
	n, h, err := datagramLen(payload)
	if err != nil {
		return nil, h, nil, err
	}
	return payload[:n], h, payload[n:], nil
}

// Each checks a message against its headers and calls fn with each
// datagram in it. Every datagram must be of m.Session, the first must
// start at m.Seq (an end of stream's seq is the next sample's), and each
// must follow the one before; the whole message is checked before fn is
// called, so a bad one is dropped whole.
func Each(m Meta, payload []byte, fn func(dg []byte, h telemetry.Header)) error {
	if err := check(m, payload); err != nil {
		return err
	}
	for len(payload) > 0 {
		dg, h, rest, _ := Next(payload)
		fn(dg, h)
		payload = rest
	}
	return nil
}

func check(m Meta, payload []byte) error {
	if len(payload) == 0 {
		return fmt.Errorf("%w: empty", ErrPayload)
	}
	next := m.Seq
	for len(payload) > 0 {
		_, h, rest, err := Next(payload)
		if err != nil {
			return err
		}
		if h.Session != m.Session || h.Seq != next {
			return fmt.Errorf("%w: session %08x seq %d, want %08x seq %d", ErrMismatch, h.Session, h.Seq, m.Session, next)
		}
		next = h.Seq + uint32(h.Count)
		payload = rest
	}
	return nil
}
