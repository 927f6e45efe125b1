package control

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testKey = Key{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}

// docVector reads the golden block of docs/protocol.md.
func docVector(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- golden: signed-command-v1 -->\n```text\n")
	if !ok {
		t.Fatal("docs/protocol.md has no signed-command-v1 block")
	}
	block, _, _ := strings.Cut(rest, "```")
	v := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(block))
	for sc.Scan() {
		line := sc.Text()
		// Keys are padded to 11 columns; "reply tag" has a space.
		if len(line) < 11 {
			t.Fatalf("short line %q", line)
		}
		v[strings.TrimSpace(line[:11])] = line[11:]
	}
	for _, k := range []string{"key", "command", "tag", "sent", "reply", "reply tag", "received"} {
		if v[k] == "" {
			t.Fatalf("test vector lacks %q: %q", k, v)
		}
	}
	return v
}

// TestProtocolDocVector: the worked example of docs/protocol.md is what
// the code computes, both ways.
func TestProtocolDocVector(t *testing.T) {
	v := docVector(t)
	key, err := ParseKey([]byte(v["key"]))
	if err != nil || key != testKey {
		t.Fatalf("key %q: %v (want 00..1f)", v["key"], err)
	}
	tag := key.CommandTag([]byte(v["command"]))
	if tag.String() != v["tag"] {
		t.Errorf("command tag %s, doc says %s", tag, v["tag"])
	}
	if got := string(AppendSigned(nil, []byte(v["command"]), tag)); got != v["sent"]+"\n" {
		t.Errorf("signed line %q, doc says %q", got, v["sent"])
	}
	body, gotTag, err := key.VerifyCommand([]byte(v["sent"]))
	if err != nil || string(body) != v["command"] || gotTag != tag {
		t.Errorf("VerifyCommand(doc line) = %q, %s, %v", body, gotTag, err)
	}
	cmd, err := ParseCommand(body)
	if err != nil || cmd.From != "lab-pc" || cmd.TS != 1767225600000000 || cmd.ID != "7" || cmd.Lease != 5*time.Second {
		t.Errorf("ParseCommand(doc command) = %+v, %v", cmd, err)
	}
	rtag := key.ReplyTag(tag, []byte(v["reply"]))
	if rtag.String() != v["reply tag"] {
		t.Errorf("reply tag %s, doc says %s", rtag, v["reply tag"])
	}
	if got := string(AppendSigned(nil, []byte(v["reply"]), rtag)); got != v["received"]+"\n" {
		t.Errorf("signed reply %q, doc says %q", got, v["received"])
	}
	if rb, err := key.VerifyReply(tag, []byte(v["received"])); err != nil || string(rb) != v["reply"] {
		t.Errorf("VerifyReply(doc reply) = %q, %v", rb, err)
	}
	// The reply is bound to its request.
	other := key.CommandTag([]byte(v["command"] + " "))
	if _, err := key.VerifyReply(other, []byte(v["received"])); !errors.Is(err, ErrBadTag) {
		t.Errorf("reply verified against another request's tag: %v", err)
	}
}

func TestSplitSigned(t *testing.T) {
	const sig = " sig=00112233445566778899aabbccddeeff"
	for _, tc := range []struct {
		in, body string
		err      error
	}{
		{"ping" + sig, "ping", nil},
		{"ping" + sig + "\n", "ping", nil},
		{"ping" + sig + "\r\n", "ping", nil},
		{"ping sig=" + strings.ToUpper(sig[5:]), "", ErrBadTag}, // one spelling per tag: FuzzVerifyCommand/441c9959614f91b9
		{"ping", "", ErrUnsigned},
		{"", "", ErrUnsigned},
		{sig[1:], "", ErrUnsigned}, // no space before sig=
		{"ping\t" + sig[1:], "", ErrUnsigned},
		{"ping" + sig + " ", "", ErrUnsigned}, // sig= must be last
		{"ping" + sig[:len(sig)-1], "", ErrUnsigned},
		{"ping" + sig + "0", "", ErrUnsigned},
		{"ping" + sig[:len(sig)-1] + "g", "", ErrBadTag},
		{"ping sig=" + strings.Repeat("0", 32) + sig, "ping sig=" + strings.Repeat("0", 32), nil},
	} {
		body, _, err := SplitSigned([]byte(tc.in))
		if !errors.Is(err, tc.err) || (err == nil && string(body) != tc.body) {
			t.Errorf("SplitSigned(%q) = %q, %v; want %q, %v", tc.in, body, err, tc.body, tc.err)
		}
	}
	// A signed line whose body carries a second sig= verifies, and the
	// command parser then refuses the unknown option.
	line := AppendSigned(nil, []byte("ping sig=x"), testKey.CommandTag([]byte("ping sig=x")))
	body, _, err := testKey.VerifyCommand(line)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCommand(body); !errors.Is(err, ErrBadArg) {
		t.Errorf("ParseCommand(%q) = %v, want ErrBadArg", body, err)
	}
}

// TestTagCoversEveryByte: changing, adding or removing any byte before
// " sig=" breaks the tag.
func TestTagCoversEveryByte(t *testing.T) {
	body := []byte("id=7 start :9000 lease=5s from=lab-pc ts=1767225600000000")
	line := AppendSigned(nil, body, testKey.CommandTag(body))
	if _, _, err := testKey.VerifyCommand(line); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		for _, mutate := range []func([]byte) []byte{
			func(b []byte) []byte { b[i] ^= 0x01; return b },
			func(b []byte) []byte { return append(b[:i:i], b[i+1:]...) },
			func(b []byte) []byte { return append(append(b[:i:i], ' '), b[i:]...) },
		} {
			bad := mutate(bytes.Clone(line))
			if _, _, err := testKey.VerifyCommand(bad); !errors.Is(err, ErrBadTag) && !errors.Is(err, ErrUnsigned) {
				t.Fatalf("%q verified", bad)
			}
		}
	}
	other := testKey
	other[31] ^= 1
	if _, _, err := other.VerifyCommand(line); !errors.Is(err, ErrBadTag) {
		t.Errorf("verified under another key: %v", err)
	}
	// A command tag is no reply tag, whatever the request.
	if _, err := testKey.VerifyReply(Tag{}, line); !errors.Is(err, ErrBadTag) {
		t.Errorf("a command verified as a reply: %v", err)
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if k == (Key{}) {
		t.Fatal("GenerateKey returned zeros")
	}
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %#o, want 0600", fi.Mode().Perm())
	}
	if got, err := LoadKey(path); err != nil || got != k {
		t.Errorf("LoadKey = %x, %v; want %x", got, err, k)
	}
	if got, err := LoadKeyIf(path); err != nil || got == nil || *got != k {
		t.Errorf("LoadKeyIf = %v, %v; want %x", got, err, k)
	}
	if got, err := LoadKeyIf(""); got != nil || err != nil {
		t.Errorf("LoadKeyIf(\"\") = %v, %v; want nil, nil", got, err)
	}
	if _, err := LoadKeyIf(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadKeyIf of a missing file: no error")
	}
	if err := WriteKeyFile(path, Key{}); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "remove it first") {
		t.Errorf("WriteKeyFile over an existing key: %v", err)
	}
	if got, _ := LoadKey(path); got != k {
		t.Error("the existing key was overwritten")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(path); !errors.Is(err, ErrKeyExposed) {
		t.Errorf("LoadKey of a world-readable file: %v, want ErrKeyExposed", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(path); err != nil {
		t.Errorf("LoadKey of a group-readable file (root:imustream 0640): %v", err)
	}
	if _, err := LoadKey(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadKey of a missing file succeeded")
	}
}

func TestParseKey(t *testing.T) {
	hexKey := hex.EncodeToString(testKey[:])
	for _, good := range []string{hexKey, hexKey + "\n", "  " + hexKey + " \n", "# a comment\n" + hexKey + "\n\n", strings.ToUpper(hexKey)} {
		if k, err := ParseKey([]byte(good)); err != nil || k != testKey {
			t.Errorf("ParseKey(%q) = %x, %v", good, k, err)
		}
	}
	for _, bad := range []string{"", "\n", hexKey[:62], hexKey + "00", hexKey[:63] + "g", hexKey + "\n" + hexKey, "# only a comment\n"} {
		if _, err := ParseKey([]byte(bad)); !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseKey(%q) = %v, want ErrBadKey", bad, err)
		}
	}
}

func TestAuthArgs(t *testing.T) {
	const boot = "0123456789abcdef"
	for _, tc := range []struct {
		body string
		name string
		ts   uint64
		ok   bool
	}{
		{"ping from=a ts=1 boot=" + boot, "a", 1, true},
		{"ts=18446744073709551615 id=x start boot=" + boot + " from=lab.pc_1-b", "lab.pc_1-b", 1<<64 - 1, true},
		{"ping from=a ts=1", "", 0, false},
		{"ping from=a ts=1 boot=0123", "", 0, false},
		{"ping from=a ts=1 boot=0123456789ABCDEF", "", 0, false},
		{"ping from=a ts=1 boot=" + boot + " boot=" + boot, "", 0, false},
		{"ping from=a boot=" + boot, "", 0, false},
		{"ping ts=5 boot=" + boot, "", 0, false},
		{"ping from=a ts=0 boot=" + boot, "", 0, false},
		{"ping from=a ts=-1 boot=" + boot, "", 0, false},
		{"ping from=a ts=18446744073709551616 boot=" + boot, "", 0, false},
		{"ping from=a ts=1 ts=2 boot=" + boot, "", 0, false},
		{"ping from=a from=b ts=1 boot=" + boot, "", 0, false},
		{"ping from= ts=1 boot=" + boot, "", 0, false},
		{"ping from=a/b ts=1 boot=" + boot, "", 0, false},
		{"ping from=" + strings.Repeat("a", 33) + " ts=1 boot=" + boot, "", 0, false},
	} {
		name, ts, b, err := authArgs([]byte(tc.body))
		if (err == nil) != tc.ok || name != tc.name || ts != tc.ts || (tc.ok && b != boot) {
			t.Errorf("authArgs(%q) = %q, %d, %q, %v; want %q, %d, ok %v", tc.body, name, ts, b, err, tc.name, tc.ts, tc.ok)
		}
	}
}

const ms = int64(time.Millisecond)

// TestReplayWindow walks one sender's counter through every verdict. Any
// strictly increasing counter works, however long the sender was idle (a
// plain counter was locked out after 31 s), and nothing is written to disk.
func TestReplayWindow(t *testing.T) {
	s := NewReplayState()
	boot := s.Boot()
	if !isHex(boot, BootLen) || NewReplayState().Boot() == boot {
		t.Fatalf("boot nonce %q: want %d fresh hex digits each start", boot, 2*BootLen)
	}
	now := int64(1000 * ms)
	accept := func(name string, ts uint64) {
		t.Helper()
		if v := s.check(name, boot, ts, now); v != fresh {
			t.Fatalf("check(%s, %d) = %d, want fresh", name, ts, v)
		}
		s.accept(name, ts, now)
	}
	expect := func(name string, ts uint64, want verdict) {
		t.Helper()
		if v := s.check(name, boot, ts, now); v != want {
			t.Errorf("check(%s, %d) at %d ms = %d, want %d", name, ts, now/ms, v, want)
		}
	}
	accept("pc", 5_000_000)
	expect("pc", 5_000_000, replayed)
	expect("pc", 4_999_999, replayed)
	expect("pc", 1, replayed)
	expect("other", 1, fresh) // counters are per name
	accept("plain", 3)
	now += int64(time.Hour) // an idle controller with a plain counter
	accept("plain", 4)
	expect("plain", 4, replayed)
	if v := s.check("pc", "fedcba9876543210", 9_000_000, now); v != wrongBoot {
		t.Errorf("another boot's nonce: %d, want wrongBoot", v)
	}
}

// The 65th name is refused while 64 are in use, with its own verdict; a
// name idle for SenderIdle makes room.
func TestReplaySenderLimit(t *testing.T) {
	s := NewReplayState()
	now := int64(0)
	for i := range MaxSenders {
		name := "pc" + strconv.Itoa(i)
		if v := s.check(name, s.Boot(), 1, now); v != fresh {
			t.Fatalf("sender %d: verdict %d", i, v)
		}
		s.accept(name, 1, now)
		now += ms
	}
	if v := s.check("one-too-many", s.Boot(), 1, now); v != tooMany {
		t.Errorf("sender %d: verdict %d, want tooMany", MaxSenders+1, v)
	}
	if v := s.check("pc0", s.Boot(), 2, now); v != fresh {
		t.Errorf("a known sender at the limit: verdict %d, want fresh", v)
	}
	// All but pc0 keep talking; pc0 goes quiet for SenderIdle.
	now += int64(SenderIdle) - 10*ms
	for i := 1; i < MaxSenders; i++ {
		s.accept("pc"+strconv.Itoa(i), 2, now)
	}
	now += 20 * ms
	if v := s.check("newcomer", s.Boot(), 1, now); v != fresh || s.Len() != MaxSenders-1 {
		t.Errorf("with pc0 idle for %v: verdict %d, %d names; want fresh and pc0 forgotten", SenderIdle, v, s.Len())
	}
}

// BenchmarkReplayAccept is the cost a key adds to each command's replay
// check: memory only, no disk write.
func BenchmarkReplayAccept(b *testing.B) {
	s := NewReplayState()
	b.ReportAllocs()
	for i := range b.N {
		if v := s.check("pc", s.Boot(), uint64(i+1), int64(i+1)); v != fresh {
			b.Fatal(v)
		}
		s.accept("pc", uint64(i+1), int64(i+1))
	}
}
