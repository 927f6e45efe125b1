package bench

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mustListenTS opens a timestamping socket, or skips the test where the
// system has no SO_TIMESTAMPNS (qemu-user emulation, for one).
func mustListenTS(t *testing.T) *tsConn {
	t.Helper()
	rx, err := listenTS(netip.MustParseAddrPort("127.0.0.1:0"))
	if errors.Is(err, unix.ENOPROTOOPT) {
		t.Skipf("no kernel receive timestamps here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	return rx
}

// TestTimestampReceiver checks that every datagram read on loopback comes
// with its kernel receive time, in order, on the wall clock.
func TestTimestampReceiver(t *testing.T) {
	rx := mustListenTS(t)
	tx, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(rx.addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	var prev int64
	for i := range 50 {
		before := time.Now().UnixNano()
		msg := fmt.Sprintf("datagram %d", i)
		if _, err := tx.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		b, from, ts, err := rx.read(time.Now().Add(10 * time.Second))
		after := time.Now().UnixNano()
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if string(b) != msg || from != tx.LocalAddr().(*net.UDPAddr).AddrPort() {
			t.Fatalf("datagram %d: got %q from %v", i, b, from)
		}
		// The stamp is taken between the send and the read, on
		// CLOCK_REALTIME (a clock step during the test would fail it).
		if ts < before || ts > after {
			t.Errorf("datagram %d: stamp %d outside [%d, %d]", i, ts, before, after)
		}
		if ts < prev {
			t.Errorf("datagram %d: stamp %d before the previous one %d", i, ts, prev)
		}
		prev = ts
	}
}

// cmsg builds one control message with data.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestRxTimestampParse(t *testing.T) {
	ts := unix.Timespec{Sec: 1767225600, Nsec: 123456789}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
	other := cmsg(unix.SOL_IP, unix.IP_TTL, []byte{64, 0, 0, 0})
	stamp := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, raw)
	for _, tc := range []struct {
		name string
		oob  []byte
		want int64
		err  bool
	}{
		{"alone", stamp, 1767225600123456789, false},
		{"after another", append(append([]byte{}, other...), stamp...), 1767225600123456789, false},
		{"none", other, 0, true},
		{"empty", nil, 0, true},
		{"truncated", stamp[:len(stamp)-len(raw)/2-4], 0, true},
	} {
		got, err := rxTimestamp(tc.oob)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: rxTimestamp = %d, %v; want %d, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	if _, err := rxTimestamp(other); !errors.Is(err, errNoTimestamp) {
		t.Errorf("without a stamp: %v, want errNoTimestamp", err)
	}
}
