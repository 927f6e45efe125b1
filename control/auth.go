package control

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/imustream/imustream/internal/atomicfile"
)

// Sizes of the authentication scheme (docs/protocol.md, "Authenticated
// commands").
const (
	// KeyLen is the length of the shared HMAC-SHA256 key: 256 bits.
	KeyLen = 32
	// TagLen is the length of a command or reply tag: HMAC-SHA256
	// truncated to 128 bits, sent as 32 hex digits.
	TagLen = 16
	// maxFromLen bounds a sender name (from=).
	maxFromLen = 32
)

// Domain-separation prefixes of the MAC input, so that a command tag can
// never pass for a reply tag or the other way round.
const (
	cmdDomain   = "imustream-v1 cmd\n"
	replyDomain = "imustream-v1 reply "
)

const sigSep = " sig="

// Errors of the key and the signed form.
var (
	ErrBadKey      = errors.New("control: bad key")
	ErrKeyExposed  = errors.New("control: key file is readable by other users")
	ErrUnsigned    = errors.New("control: no signature")
	ErrBadTag      = errors.New("control: wrong signature")
	ErrBadAuthArgs = errors.New("control: bad from= or ts=")
)

// Key is the secret shared by the daemon and its controllers.
type Key [KeyLen]byte

// Tag is a truncated HMAC-SHA256.
type Tag [TagLen]byte

func (t Tag) String() string { return hex.EncodeToString(t[:]) }

// GenerateKey returns a key from the system's random source.
func GenerateKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("control: generating a key: %w", err)
	}
	return k, nil
}

// MarshalText returns the key as 64 lowercase hex digits, the key file's
// format.
func (k Key) MarshalText() ([]byte, error) {
	return hex.AppendEncode(nil, k[:]), nil
}

// ParseKey reads a key file's contents: 64 hex digits, surrounding
// whitespace allowed. '#' comment lines are allowed too, so the file can
// say what it is for.
func ParseKey(b []byte) (Key, error) {
	var k Key
	var digits []byte
	for line := range bytes.Lines(b) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if digits != nil {
			return k, fmt.Errorf("%w: more than one line of key material", ErrBadKey)
		}
		digits = line
	}
	if len(digits) != 2*KeyLen {
		return k, fmt.Errorf("%w: want %d hex digits (256 bits), got %d characters", ErrBadKey, 2*KeyLen, len(digits))
	}
	if _, err := hex.Decode(k[:], digits); err != nil {
		return k, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return k, nil
}

// LoadKey reads a key file. It refuses a file that users other than its
// owner and group may read or write, as ssh does with private keys.
func LoadKey(path string) (Key, error) {
	f, err := atomicfile.OpenRegular(path)
	if err != nil {
		return Key{}, fmt.Errorf("control: key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("control: key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return Key{}, fmt.Errorf("%w: %s has mode %#o; chmod 600 it", ErrKeyExposed, path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return Key{}, fmt.Errorf("control: key %s: %w", path, err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return Key{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// LoadKeyIf is LoadKey for a key that is optional: nil, and no error,
// when path is empty.
func LoadKeyIf(path string) (*Key, error) {
	if path == "" {
		return nil, nil
	}
	k, err := LoadKey(path)
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// WriteKeyFile writes k to a new file of mode 0600; it never overwrites an
// existing file, which may be the key a deployed daemon uses.
func WriteKeyFile(path string, k Key) error {
	text, _ := k.MarshalText()
	b := append([]byte("# imustream command key (HMAC-SHA256, 256 bits)\n"), text...)
	b = append(b, '\n')
	if err := atomicfile.WriteNew(path, b, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("control: key file: %w; remove it first if you mean to replace that key", err)
		}
		return fmt.Errorf("control: key file: %w", err)
	}
	return nil
}

// CommandTag authenticates a command: body is every byte of the command
// line before " sig=".
func (k *Key) CommandTag(body []byte) Tag {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(cmdDomain))
	m.Write(body)
	return truncate(m.Sum(nil))
}

// ReplyTag authenticates a reply to the command whose tag was req, so a
// reply can neither be forged nor passed off as the answer to another
// command.
func (k *Key) ReplyTag(req Tag, body []byte) Tag {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(replyDomain))
	var h [2 * TagLen]byte
	hex.Encode(h[:], req[:])
	m.Write(h[:])
	m.Write([]byte{'\n'})
	m.Write(body)
	return truncate(m.Sum(nil))
}

func truncate(sum []byte) Tag {
	var t Tag
	copy(t[:], sum)
	return t
}

// AppendSigned appends body, " sig=", the tag in hex and a newline.
func AppendSigned(dst, body []byte, tag Tag) []byte {
	dst = append(dst, body...)
	dst = append(dst, sigSep...)
	dst = hex.AppendEncode(dst, tag[:])
	return append(dst, '\n')
}

// SplitSigned splits a signed line into the signed bytes and the tag. The
// tag must be the last token, after exactly one space: "… sig=<32 hex>",
// optionally followed by "\n" or "\r\n". The hex must be lowercase, so a
// tag has one spelling only.
func SplitSigned(b []byte) (body []byte, tag Tag, err error) {
	b = TrimLineEnd(b)
	const n = len(sigSep) + 2*TagLen
	if len(b) < n || !bytes.Equal(b[len(b)-n:len(b)-2*TagLen], []byte(sigSep)) {
		return nil, tag, ErrUnsigned
	}
	digits := b[len(b)-2*TagLen:]
	if bytes.ContainsFunc(digits, func(r rune) bool { return (r < '0' || r > '9') && (r < 'a' || r > 'f') }) {
		return nil, tag, fmt.Errorf("%w: sig is not %d lowercase hex digits", ErrBadTag, 2*TagLen)
	}
	_, _ = hex.Decode(tag[:], digits) // checked above
	return b[:len(b)-n], tag, nil
}

// VerifyCommand checks a signed command line against k and returns the
// signed bytes and the tag. It does not check freshness: that is the
// replay window's job.
func (k *Key) VerifyCommand(line []byte) ([]byte, Tag, error) {
	body, tag, err := SplitSigned(line)
	if err != nil {
		return nil, tag, err
	}
	want := k.CommandTag(body)
	if !hmac.Equal(tag[:], want[:]) {
		return nil, tag, ErrBadTag
	}
	return body, tag, nil
}

// VerifyReply checks a signed reply to the command whose tag was req and
// returns its signed bytes.
func (k *Key) VerifyReply(req Tag, line []byte) ([]byte, error) {
	body, tag, err := SplitSigned(line)
	if err != nil {
		return nil, err
	}
	want := k.ReplyTag(req, body)
	if !hmac.Equal(tag[:], want[:]) {
		return nil, ErrBadTag
	}
	return body, nil
}

// checkFrom checks a sender name: 1 to 32 of letters, digits, '-', '_',
// '.', like a request id.
func checkFrom(from string) error {
	if from == "" || len(from) > maxFromLen || !isIDChars(from) {
		return badArg("from must be 1 to %d letters, digits, '-', '_' or '.'", maxFromLen)
	}
	return nil
}
