package telemetry

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Authenticated telemetry (docs/protocol.md, "Authentication tag"). With a
// key, a signed start carries a nonce; the daemon and the receiver derive
// the stream's key from the shared key and that nonce, and every datagram
// of that subscriber's stream, end marker included, carries the first
// TagLen bytes of HMAC-SHA256 under the stream key over all the bytes
// before the tag, with FlagTagged set in the header.

const (
	// TagLen is the length of the tag that follows a tagged datagram's
	// records.
	TagLen = 16
	// NonceLen is the length of the nonce of a signed start.
	NonceLen = 16
	// MaxBatchPressureTagged keeps a tagged datagram of 56-byte records
	// under 1200 bytes too (MaxBatch 52-byte records still fit with a tag).
	MaxBatchPressureTagged = (1200 - HeaderLen - TagLen) / SampleLenPressure
)

// streamLabel separates the stream key from every other use of the key.
const streamLabel = "imustream-v1 telemetry\n"

// StreamKey derives a stream's key from the shared key and the nonce of
// its signed start.
func StreamKey(key, nonce []byte) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(streamLabel))
	m.Write(nonce)
	var k [32]byte
	m.Sum(k[:0])
	return k
}

// Tagger tags and checks the datagrams of one stream without allocating:
// its HMAC state and scratch space are made once. It is not safe for
// concurrent use.
type Tagger struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// NewTagger returns a Tagger under the stream key k.
func NewTagger(k [32]byte) *Tagger { return &Tagger{mac: hmac.New(sha256.New, k[:])} }

// tag computes the tag of b into t.sum.
func (t *Tagger) tag(b []byte) []byte {
	t.mac.Reset()
	t.mac.Write(b)
	return t.mac.Sum(t.sum[:0])[:TagLen]
}

// Append sets FlagTagged in the encoded datagram b and appends its tag;
// b must have room (capacity) for TagLen more bytes not to allocate.
func (t *Tagger) Append(b []byte) []byte {
	SetTagged(b, true)
	return append(b, t.tag(b)...)
}

// Verify reports whether b, a whole tagged datagram, carries the tag of
// this stream, in constant time.
func (t *Tagger) Verify(b []byte) bool {
	if len(b) < HeaderLen+TagLen || binary.LittleEndian.Uint16(b[18:20])&FlagTagged == 0 {
		return false
	}
	n := len(b) - TagLen
	return hmac.Equal(t.tag(b[:n]), b[n:])
}

// SetTagged sets or clears FlagTagged in the encoded header of b, for a
// sender that sends one encoding to tagged and untagged subscribers.
func SetTagged(b []byte, on bool) {
	f := binary.LittleEndian.Uint16(b[18:20]) &^ FlagTagged
	if on {
		f |= FlagTagged
	}
	binary.LittleEndian.PutUint16(b[18:20], f)
}
