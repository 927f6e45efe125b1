// Package telemetry encodes and decodes the telemetry datagrams the daemon
// streams to its subscribers. The format is specified in docs/protocol.md.
//
// A datagram is a 20-byte header followed by Count sample records of
// SampleLen bytes each, all little-endian. Encoders append to the caller's
// buffer and decoders reuse the caller's storage, so neither allocates on the
// hot path. The package does no I/O: package stream sends datagrams,
// package receiver tracks and records them.
package telemetry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/imustream/imustream/sensor"
)

// Sizes and limits of format version 1.
const (
	Magic     = "IMUS"
	Version   = 1
	HeaderLen = 20
	// SampleLen is the length of a v1 record. Later versions may only
	// append fields, so receivers accept longer records.
	SampleLen = 52
	// SampleLenPressure is the length of a record with pressure_pa appended
	// at offset 52, which a stream with a barometer sends.
	SampleLenPressure = 56
	// MaxBatch keeps a datagram under 1200 bytes, so it is not fragmented
	// on any IPv6 path (minimum MTU 1280) or ordinary IPv4 one.
	MaxBatch       = 22
	MaxDatagramLen = HeaderLen + MaxBatch*SampleLen
	// MaxBatchPressure is MaxBatch for 56-byte records.
	MaxBatchPressure       = 21
	MaxDatagramLenPressure = HeaderLen + MaxBatchPressure*SampleLenPressure
)

// Type is the kind of datagram.
type Type uint8

const (
	// TypeSamples carries 1..MaxBatch consecutive samples.
	TypeSamples Type = 1
	// TypeEnd says the stream ended deliberately; it carries no samples.
	TypeEnd Type = 2
)

func (t Type) String() string {
	switch t {
	case TypeSamples:
		return "samples"
	case TypeEnd:
		return "end"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Header is the fixed part at the start of every datagram.
type Header struct {
	Version   uint8
	Type      Type
	Count     uint8 // sample records that follow
	SampleLen uint8 // bytes per record; ≥ SampleLen when received
	// Session is random per stream start; a new value means seq restarted.
	Session uint32
	// Seq is the sequence number of the first sample (sample i has Seq+i),
	// or for TypeEnd the one the next sample would have had.
	Seq    uint32
	RateHz uint16 // nominal sample rate
	// Flags, at offset 18 (reserved before any was defined): FlagTagged.
	// Unknown bits are ignored.
	Flags uint16
}

// FlagTagged says that a TagLen-byte authentication tag follows the
// records (see tag.go).
const FlagTagged = 1 << 0

// Decode errors. Parse and ParseHeader wrap them with detail; test with
// errors.Is. All of them mean "bad datagram": skip it and count it.
var (
	ErrShort     = errors.New("telemetry: datagram shorter than header")
	ErrMagic     = errors.New("telemetry: bad magic")
	ErrVersion   = errors.New("telemetry: unsupported version")
	ErrType      = errors.New("telemetry: unknown datagram type")
	ErrCount     = errors.New("telemetry: bad sample count")
	ErrSampleLen = errors.New("telemetry: sample record too short")
	ErrLength    = errors.New("telemetry: datagram length does not match header")
)

// Is reports whether b looks like a telemetry datagram. It is a cheap
// filter for mixed traffic; Parse does the real checks.
func Is(b []byte) bool {
	return len(b) >= HeaderLen && string(b[:4]) == Magic
}

// AppendHeader appends h to dst. Version and SampleLen zero mean the
// current ones; other fields are written as given, unchecked.
func AppendHeader(dst []byte, h Header) []byte {
	if h.Version == 0 {
		h.Version = Version
	}
	if h.SampleLen == 0 {
		h.SampleLen = SampleLen
	}
	dst = append(dst, Magic...)
	dst = append(dst, h.Version, byte(h.Type), h.Count, h.SampleLen)
	dst = binary.LittleEndian.AppendUint32(dst, h.Session)
	dst = binary.LittleEndian.AppendUint32(dst, h.Seq)
	dst = binary.LittleEndian.AppendUint16(dst, h.RateHz)
	return binary.LittleEndian.AppendUint16(dst, h.Flags)
}

// PutSessionSeq rewrites the session and seq of the encoded datagram b (at
// least HeaderLen bytes) in place: the sender encodes a datagram once and
// gives each subscriber its own session and seq.
func PutSessionSeq(b []byte, session, seq uint32) {
	binary.LittleEndian.PutUint32(b[8:12], session)
	binary.LittleEndian.PutUint32(b[12:16], seq)
}

// AppendSample appends one v1 record of s to dst. LateNs saturates to the
// wire's u32 range (a negative value is sent as 0).
func AppendSample(dst []byte, s *sensor.Sample) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.MonoNs))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.WallNs))
	dst = binary.LittleEndian.AppendUint32(dst, lateToWire(s.LateNs))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(s.Status))
	dst = binary.LittleEndian.AppendUint16(dst, 0) // reserved
	for _, v := range s.Accel {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	for _, v := range s.Gyro {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(s.TempC))
}

// AppendSamplePressure appends one 56-byte record: AppendSample's and
// pressure_pa, which is 0 unless s has StatusPressure.
func AppendSamplePressure(dst []byte, s *sensor.Sample) []byte {
	dst = AppendSample(dst, s)
	var pa float32
	if s.Status&sensor.StatusPressure != 0 {
		pa = s.PressurePa
	}
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(pa))
}

func lateToWire(ns int64) uint32 {
	switch {
	case ns < 0:
		return 0
	case ns > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(ns)
}

// AppendDatagram appends a samples datagram to dst. Only Session, Seq and
// RateHz are taken from h; the rest is implied by samples. It panics unless
// 1 ≤ len(samples) ≤ MaxBatch: batching is the sender's job and an
// oversized batch is a bug there, not a condition to recover from.
func AppendDatagram(dst []byte, h Header, samples []sensor.Sample) []byte {
	return appendDatagram(dst, h, samples, false)
}

// AppendDatagramPressure is AppendDatagram with 56-byte records that carry
// the pressure (AppendSamplePressure). It panics unless 1 ≤ len(samples) ≤
// MaxBatchPressure.
func AppendDatagramPressure(dst []byte, h Header, samples []sensor.Sample) []byte {
	return appendDatagram(dst, h, samples, true)
}

func appendDatagram(dst []byte, h Header, samples []sensor.Sample, pressure bool) []byte {
	if pressure {
		return appendRecords(dst, h, samples, SampleLenPressure)
	}
	return appendRecords(dst, h, samples, SampleLen)
}

// appendRecords appends a samples datagram of sl-byte records, one of the
// lengths this version writes.
func appendRecords(dst []byte, h Header, samples []sensor.Sample, sl int) []byte {
	name, maxN := "AppendDatagram", MaxBatch
	switch sl {
	case SampleLenPressure:
		name, maxN = "AppendDatagramPressure", MaxBatchPressure
	case SampleLenMagQuat:
		name, maxN = "AppendDatagramMagQuat", MaxBatchMagQuat
	}
	if len(samples) < 1 || len(samples) > maxN {
		panic("telemetry: " + name + " with " + strconv.Itoa(len(samples)) + " samples, want 1.." + strconv.Itoa(maxN))
	}
	h.Version = Version
	h.Type = TypeSamples
	h.Count = uint8(len(samples))
	h.SampleLen = uint8(sl)
	dst = AppendHeader(dst, h)
	for i := range samples {
		switch sl {
		case SampleLenPressure:
			dst = AppendSamplePressure(dst, &samples[i])
		case SampleLenMagQuat:
			dst = AppendSampleMagQuat(dst, &samples[i])
		default:
			dst = AppendSample(dst, &samples[i])
		}
	}
	return dst
}

// AppendEnd appends an end-of-stream datagram to dst. nextSeq is the seq the
// next sample would have had, so a receiver can tell whether it missed the
// tail of the stream.
func AppendEnd(dst []byte, session, nextSeq uint32, rateHz uint16) []byte {
	return AppendHeader(dst, Header{Type: TypeEnd, Session: session, Seq: nextSeq, RateHz: rateHz})
}

// ParseHeader decodes and checks the header at the start of b. It does not
// check that the records follow; Parse does.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrShort, len(b), HeaderLen)
	}
	if string(b[:4]) != Magic {
		return Header{}, fmt.Errorf("%w: % x", ErrMagic, b[:4])
	}
	h := Header{
		Version:   b[4],
		Type:      Type(b[5]),
		Count:     b[6],
		SampleLen: b[7],
		Session:   binary.LittleEndian.Uint32(b[8:]),
		Seq:       binary.LittleEndian.Uint32(b[12:]),
		RateHz:    binary.LittleEndian.Uint16(b[16:]),
		Flags:     binary.LittleEndian.Uint16(b[18:]),
	}
	if h.Version != Version {
		return Header{}, fmt.Errorf("%w: %d, want %d", ErrVersion, h.Version, Version)
	}
	switch h.Type {
	case TypeSamples:
		if h.Count < 1 || h.Count > MaxBatch {
			return Header{}, fmt.Errorf("%w: %d for type %v, want 1..%d", ErrCount, h.Count, h.Type, MaxBatch)
		}
	case TypeEnd:
		if h.Count != 0 {
			return Header{}, fmt.Errorf("%w: %d for type %v, want 0", ErrCount, h.Count, h.Type)
		}
	default:
		return Header{}, fmt.Errorf("%w: %d", ErrType, h.Type)
	}
	if h.SampleLen < SampleLen {
		return Header{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrSampleLen, h.SampleLen, SampleLen)
	}
	return h, nil
}

// Datagram is a decoded datagram.
type Datagram struct {
	Header
	Samples []sensor.Sample
	// Tag is the authentication tag of a tagged datagram (FlagTagged), a
	// slice of the parsed bytes; nil otherwise. Parse does not check it:
	// VerifyTag does, with the stream's key.
	Tag []byte
}

// Parse decodes b into d. It reuses d.Samples and does not allocate when its
// capacity is at least Count; when it has to grow it makes room for MaxBatch
// so that it grows once. On error d is left unchanged. Records longer than
// SampleLen (from a newer sender) are read up to the fields this version
// knows: PressurePa from records of SampleLenPressure or more that have
// StatusPressure, else 0; Mag and Quat from records of SampleLenMagQuat
// or more that have StatusMag and StatusOrientation, else zeros.
func Parse(b []byte, d *Datagram) error {
	h, err := ParseHeader(b)
	if err != nil {
		return err
	}
	n, sl := int(h.Count), int(h.SampleLen)
	tag := 0
	if h.Flags&FlagTagged != 0 {
		tag = TagLen
	}
	if want := HeaderLen + n*sl + tag; len(b) != want {
		return fmt.Errorf("%w: %d bytes, want %d for %d records of %d bytes and a tag of %d", ErrLength, len(b), want, n, sl, tag)
	}
	d.Header = h
	d.Tag = nil
	if tag > 0 {
		d.Tag = b[len(b)-TagLen:]
	}
	if cap(d.Samples) < n {
		d.Samples = make([]sensor.Sample, n, MaxBatch)
	}
	d.Samples = d.Samples[:n]
	for i := range d.Samples {
		off := HeaderLen + i*sl
		parseSample(b[off:off+sl], &d.Samples[i])
	}
	return nil
}

func parseSample(b []byte, s *sensor.Sample) {
	_ = b[SampleLen-1]
	s.MonoNs = int64(binary.LittleEndian.Uint64(b[0:]))
	s.WallNs = int64(binary.LittleEndian.Uint64(b[8:]))
	s.LateNs = int64(binary.LittleEndian.Uint32(b[16:]))
	s.Status = sensor.Status(binary.LittleEndian.Uint16(b[20:]))
	for i := range s.Accel {
		s.Accel[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[24+4*i:]))
	}
	for i := range s.Gyro {
		s.Gyro[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[36+4*i:]))
	}
	s.TempC = math.Float32frombits(binary.LittleEndian.Uint32(b[48:]))
	s.PressurePa = 0
	if len(b) >= SampleLenPressure && s.Status&sensor.StatusPressure != 0 {
		s.PressurePa = math.Float32frombits(binary.LittleEndian.Uint32(b[52:]))
	}
	parseMagQuat(b, s)
}
