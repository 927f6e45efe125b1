package packetloop

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

var errClosed = errors.New("test: closed")

func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// serve runs l.Serve on conn, handing every packet's text to got.
func serve(l *Loop, ctx context.Context, conn *net.UDPConn, got chan<- string) <-chan error {
	buf := make([]byte, 64)
	errc := make(chan error, 1)
	go func() {
		errc <- l.Serve(ctx, conn, func() (int, error) {
			n, _, err := conn.ReadFromUDP(buf)
			return n, err
		}, func(n int) { got <- string(buf[:n]) })
	}()
	return errc
}

func wait(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

func TestShutdownFinishesAndReturnsClosed(t *testing.T) {
	conn := listen(t)
	l := New("test", errClosed)
	got := make(chan string, 1)
	errc := serve(l, context.Background(), conn, got)
	c, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("one")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "one" {
			t.Fatalf("handled %q, want one", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("packet not handled")
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := wait(t, errc); err != errClosed {
		t.Fatalf("Serve returned %v, want %v", err, errClosed)
	}
	// The socket stays open for its owner.
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		t.Fatalf("socket closed by Shutdown: %v", err)
	}
	if err := l.Serve(context.Background(), conn, nil, nil); err == nil || err == errClosed {
		t.Fatalf("second Serve returned %v, want an error", err)
	}
}

func TestContextEndsServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := serve(New("test", errClosed), ctx, listen(t), make(chan string))
	cancel()
	if err := wait(t, errc); err != errClosed {
		t.Fatalf("Serve returned %v, want %v", err, errClosed)
	}
}

func TestShutdownBeforeServe(t *testing.T) {
	l := New("test", errClosed)
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown before Serve: %v", err)
	}
	if err := wait(t, serve(l, context.Background(), listen(t), make(chan string))); err != errClosed {
		t.Fatalf("Serve after Shutdown returned %v, want %v", err, errClosed)
	}
}

func TestReadErrors(t *testing.T) {
	conn := listen(t)
	l := New("test", errClosed)
	calls := 0
	broken := errors.New("broken")
	err := l.Serve(context.Background(), conn, func() (int, error) {
		calls++
		if calls < 3 {
			return 0, os.ErrDeadlineExceeded // a timeout is retried
		}
		return 0, broken
	}, func(int) { t.Error("handle called after a read error") })
	if !errors.Is(err, broken) || err.Error() != "test: read: broken" {
		t.Fatalf("Serve returned %v, want test: read: broken", err)
	}
	if calls != 3 {
		t.Fatalf("read called %d times, want 3", calls)
	}
	// Shutdown after Serve returned does not wait.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown after Serve ended: %v", err)
	}
}
