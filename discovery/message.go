package discovery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Record types and class bits used here.
const (
	TypeA    uint16 = 1
	TypePTR  uint16 = 12
	TypeTXT  uint16 = 16
	TypeAAAA uint16 = 28
	TypeSRV  uint16 = 33
	TypeANY  uint16 = 255

	ClassIN = 1
	// classTop is the cache-flush bit of a record's class (RFC 6762 §10.2)
	// and the unicast-response bit of a question's (§5.4).
	classTop = 0x8000
)

// Limits of the codec.
const (
	MaxMsgLen  = 9000 // RFC 6762 §17
	maxNameLen = 255
	maxRecords = 64 // per section; more is not a message of ours
)

// Header flag bits.
const (
	flagResponse      = 0x8000
	flagAuthoritative = 0x0400
)

// Question is one question of a message.
type Question struct {
	Name    string // lower case, dot-separated, without the trailing dot
	Type    uint16
	Unicast bool // QU: the asker wants a unicast answer
}

// SRV is an SRV record's data.
type SRV struct {
	Priority, Weight, Port uint16
	Target                 string
}

// Record is one resource record; the field its Type uses is set.
type Record struct {
	Name  string
	Type  uint16
	Flush bool // cache-flush bit: this record replaces those cached
	TTL   uint32
	PTR   string
	SRV   SRV
	TXT   []string
	Addr  netip.Addr // A or AAAA
}

// Msg is a DNS message; the answer, authority and additional sections
// are one list, since mDNS uses them alike.
type Msg struct {
	ID        uint16
	Response  bool
	Questions []Question
	Records   []Record
}

// Errors of ParseMsg and AppendMsg.
var (
	ErrShort   = errors.New("discovery: message truncated")
	ErrName    = errors.New("discovery: bad name")
	ErrRecords = errors.New("discovery: too many records")
	ErrRData   = errors.New("discovery: bad record data")
)

// readName decodes the name at off, following compression pointers; it
// returns the name and the offset after it in place.
func readName(b []byte, off int) (string, int, error) {
	var sb strings.Builder
	end := -1
	for hops := 0; ; hops++ {
		if off >= len(b) || hops > 64 {
			return "", 0, ErrName
		}
		l := int(b[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return sb.String(), end, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) {
				return "", 0, ErrShort
			}
			if end < 0 {
				end = off + 2
			}
			next := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if next >= off { // only backwards: a loop cannot form
				return "", 0, ErrName
			}
			off = next
		case l&0xc0 != 0:
			return "", 0, ErrName
		default:
			if off+1+l > len(b) {
				return "", 0, ErrShort
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			label := b[off+1 : off+1+l]
			if strings.IndexByte(string(label), '.') >= 0 {
				return "", 0, ErrName // not representable in our dotted form
			}
			sb.Write(label)
			if sb.Len() > maxNameLen {
				return "", 0, ErrName
			}
			off += 1 + l
		}
	}
}

// appendName encodes name uncompressed.
func appendName(b []byte, name string) ([]byte, error) {
	if len(name) > maxNameLen {
		return nil, ErrName
	}
	if name != "" {
		for label := range strings.SplitSeq(name, ".") {
			if len(label) == 0 || len(label) > 63 {
				return nil, ErrName
			}
			b = append(b, byte(len(label)))
			b = append(b, label...)
		}
	}
	return append(b, 0), nil
}

// ParseMsg decodes a message. Names come back in lower case (DNS names
// compare without case). Records of types it does not know keep only
// their name, type and TTL.
func ParseMsg(b []byte) (*Msg, error) {
	if len(b) < 12 {
		return nil, ErrShort
	}
	if len(b) > MaxMsgLen {
		return nil, fmt.Errorf("discovery: message of %d bytes: %w", len(b), ErrRecords)
	}
	m := &Msg{ID: binary.BigEndian.Uint16(b), Response: binary.BigEndian.Uint16(b[2:])&flagResponse != 0}
	qd := int(binary.BigEndian.Uint16(b[4:]))
	rr := int(binary.BigEndian.Uint16(b[6:])) + int(binary.BigEndian.Uint16(b[8:])) + int(binary.BigEndian.Uint16(b[10:]))
	if qd > maxRecords || rr > 3*maxRecords {
		return nil, ErrRecords
	}
	off := 12
	for range qd {
		name, n, err := readName(b, off)
		if err != nil {
			return nil, err
		}
		if n+4 > len(b) {
			return nil, ErrShort
		}
		class := binary.BigEndian.Uint16(b[n+2:])
		m.Questions = append(m.Questions, Question{Name: strings.ToLower(name), Type: binary.BigEndian.Uint16(b[n:]), Unicast: class&classTop != 0})
		off = n + 4
	}
	for range rr {
		name, n, err := readName(b, off)
		if err != nil {
			return nil, err
		}
		if n+10 > len(b) {
			return nil, ErrShort
		}
		r := Record{Name: strings.ToLower(name), Type: binary.BigEndian.Uint16(b[n:]), TTL: binary.BigEndian.Uint32(b[n+4:])}
		r.Flush = binary.BigEndian.Uint16(b[n+2:])&classTop != 0
		dl := int(binary.BigEndian.Uint16(b[n+8:]))
		start := n + 10
		if start+dl > len(b) {
			return nil, ErrShort
		}
		data := b[start : start+dl]
		switch r.Type {
		case TypeA:
			if dl != 4 {
				return nil, ErrRData
			}
			r.Addr = netip.AddrFrom4([4]byte(data))
		case TypeAAAA:
			if dl != 16 {
				return nil, ErrRData
			}
			r.Addr = netip.AddrFrom16([16]byte(data))
		case TypePTR:
			t, end, err := readName(b[:start+dl], start)
			if err != nil || end != start+dl {
				return nil, ErrRData
			}
			r.PTR = strings.ToLower(t)
		case TypeSRV:
			if dl < 7 {
				return nil, ErrRData
			}
			t, end, err := readName(b[:start+dl], start+6)
			if err != nil || end != start+dl {
				return nil, ErrRData
			}
			r.SRV = SRV{binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:]), binary.BigEndian.Uint16(data[4:]), strings.ToLower(t)}
		case TypeTXT:
			for p := 0; p < dl; {
				l := int(data[p])
				if p+1+l > dl {
					return nil, ErrRData
				}
				if l > 0 {
					r.TXT = append(r.TXT, string(data[p+1:p+1+l]))
				}
				p += 1 + l
			}
		}
		m.Records = append(m.Records, r)
		off = start + dl
	}
	return m, nil
}

// AppendMsg encodes m after b (names uncompressed; every record in the
// answer section).
func AppendMsg(b []byte, m *Msg) ([]byte, error) {
	if len(m.Questions) > maxRecords || len(m.Records) > maxRecords {
		return nil, ErrRecords
	}
	var flags uint16
	if m.Response {
		flags = flagResponse | flagAuthoritative
	}
	b = binary.BigEndian.AppendUint16(b, m.ID)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Questions)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Records)))
	b = append(b, 0, 0, 0, 0)
	var err error
	for _, q := range m.Questions {
		if b, err = appendName(b, q.Name); err != nil {
			return nil, err
		}
		class := uint16(ClassIN)
		if q.Unicast {
			class |= classTop
		}
		b = binary.BigEndian.AppendUint16(b, q.Type)
		b = binary.BigEndian.AppendUint16(b, class)
	}
	for _, r := range m.Records {
		if b, err = appendName(b, r.Name); err != nil {
			return nil, err
		}
		class := uint16(ClassIN)
		if r.Flush {
			class |= classTop
		}
		b = binary.BigEndian.AppendUint16(b, r.Type)
		b = binary.BigEndian.AppendUint16(b, class)
		b = binary.BigEndian.AppendUint32(b, r.TTL)
		lenAt := len(b)
		b = append(b, 0, 0)
		switch r.Type {
		case TypeA:
			if !r.Addr.Is4() {
				return nil, ErrRData
			}
			a := r.Addr.As4()
			b = append(b, a[:]...)
		case TypeAAAA:
			a := r.Addr.As16()
			b = append(b, a[:]...)
		case TypePTR:
			if b, err = appendName(b, r.PTR); err != nil {
				return nil, err
			}
		case TypeSRV:
			b = binary.BigEndian.AppendUint16(b, r.SRV.Priority)
			b = binary.BigEndian.AppendUint16(b, r.SRV.Weight)
			b = binary.BigEndian.AppendUint16(b, r.SRV.Port)
			if b, err = appendName(b, r.SRV.Target); err != nil {
				return nil, err
			}
		case TypeTXT:
			if len(r.TXT) == 0 {
				b = append(b, 0) // RFC 6763 §6.1: never empty
			}
			for _, s := range r.TXT {
				if len(s) > 255 {
					return nil, ErrRData
				}
				b = append(b, byte(len(s)))
				b = append(b, s...)
			}
		default:
			return nil, ErrRData
		}
		dl := len(b) - lenAt - 2
		if dl > 0xffff {
			return nil, ErrRData
		}
		binary.BigEndian.PutUint16(b[lenAt:], uint16(dl))
	}
	if len(b) > MaxMsgLen {
		return nil, ErrRecords
	}
	return b, nil
}
