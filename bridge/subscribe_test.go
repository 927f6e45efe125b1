package bridge

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestUntilAnswered: a JetStream request that times out (a cluster
// electing a leader) is sent again; any other answer ends the wait.
func TestUntilAnswered(t *testing.T) {
	errOther := errors.New("stream not found")
	for _, tc := range []struct {
		name  string
		errs  []error
		calls int
		want  error
	}{
		{"answered", []error{nil}, 1, nil},
		{"timeouts, then answered", []error{context.DeadlineExceeded, nats.ErrTimeout, nil}, 3, nil},
		{"another error at once", []error{errOther, nil}, 1, errOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := untilAnswered(context.Background(), func(context.Context) error {
				calls++
				return tc.errs[calls-1]
			})
			if !errors.Is(err, tc.want) || calls != tc.calls {
				t.Errorf("err %v after %d calls, want %v after %d", err, calls, tc.want, tc.calls)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := untilAnswered(ctx, func(context.Context) error {
		if calls++; calls == 2 {
			cancel()
		}
		return context.DeadlineExceeded
	})
	if err == nil || calls != 2 {
		t.Errorf("cancelled: err %v after %d calls, want an error after 2", err, calls)
	}
}
