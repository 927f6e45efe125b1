package bridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// From is where a subscription starts.
type From struct {
	// Live takes only what is published from now on, over core NATS
	// (no stream needed). Otherwise the stream that holds the subject is
	// read by an ordered consumer: from the start (the zero From), from
	// stream sequence Seq, or from Time.
	Live bool
	Seq  uint64
	Time time.Time
}

// ParseFrom reads --from: "live", "all", a stream sequence number, or an
// RFC 3339 time.
func ParseFrom(s string) (From, error) {
	switch {
	case s == "live" || s == "":
		return From{Live: true}, nil
	case s == "all":
		return From{}, nil
	case strings.TrimLeft(s, "0123456789") == "":
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return From{}, fmt.Errorf("bridge: --start-at %q: a stream sequence starts at 1", s)
		}
		return From{Seq: n}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return From{}, fmt.Errorf("bridge: --start-at %q: want live, all, a stream sequence or an RFC 3339 time", s)
	}
	return From{Time: t}, nil
}

// Message is one message of a subscription, checked against its headers.
type Message struct {
	Meta    Meta
	Payload []byte // whole datagrams (Each splits them)
	// Pending is how many messages the stream holds after this one for
	// the subscription (0 when live): 0 means caught up.
	Pending uint64
	Live    bool
}

// Handler gets each message; a message whose headers or payload are bad
// goes to Handler with its error instead (count it and go on).
type Handler func(m Message, err error)

// Subscribe reads subject from where from says and calls h with each
// message, one at a time, until ctx ends. An ordered consumer survives
// a broker node's death and a reconnection without losing its place.
func Subscribe(ctx context.Context, nc *nats.Conn, subject string, from From, h Handler) error {
	if from.Live {
		ch := make(chan *nats.Msg, 4096)
		sub, err := nc.ChanSubscribe(subject, ch)
		if err != nil {
			return fmt.Errorf("bridge: subscribe %s: %w", subject, err)
		}
		defer sub.Unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return nil
			case m := <-ch:
				deliver(h, m.Header.Get, m.Data, 0, true)
			}
		}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("bridge: jetstream: %w", err)
	}
	var stream string
	err = untilAnswered(ctx, func(ctx context.Context) (err error) {
		stream, err = js.StreamNameBySubject(ctx, subject)
		return err
	})
	if err != nil {
		return fmt.Errorf("bridge: no stream holds %s: %w", subject, err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverAllPolicy}
	switch {
	case from.Seq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from.Seq
	case !from.Time.IsZero():
		t := from.Time
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	var cons jetstream.Consumer
	err = untilAnswered(ctx, func(ctx context.Context) (err error) {
		cons, err = js.OrderedConsumer(ctx, stream, cfg)
		return err
	})
	if err != nil {
		return fmt.Errorf("bridge: consumer on %s: %w", stream, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("bridge: consume %s: %w", stream, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			continue // a heartbeat missed while a node fails over: the ordered consumer recreates itself
		}
		var pending uint64
		if md, err := m.Metadata(); err == nil {
			pending = md.NumPending
		}
		deliver(h, m.Headers().Get, m.Data(), pending, false)
	}
}

// answerWait bounds how long a JetStream request that times out is sent
// again: a cluster electing a leader (a node just died, or the cluster
// just started) answers within seconds; one that never answers is down.
const answerWait = time.Minute

// untilAnswered calls req until it returns something other than a
// timeout, for at most answerWait.
func untilAnswered(ctx context.Context, req func(context.Context) error) error {
	end := time.Now().Add(answerWait)
	for {
		err := req(ctx)
		if err == nil || ctx.Err() != nil || time.Now().After(end) ||
			!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func deliver(h Handler, get func(string) string, data []byte, pending uint64, live bool) {
	meta, err := ParseMeta(get)
	if err == nil {
		err = check(meta, data)
	}
	h(Message{Meta: meta, Payload: data, Pending: pending, Live: live}, err)
}
