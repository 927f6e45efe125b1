package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// RecordConfig configures Record.
type RecordConfig struct {
	Conn    *nats.Conn
	Subject string // one device's PREFIX.DEVICE.imu
	From    From
	// Duration ends the recording this much device time after its first
	// sample; 0: until ctx ends (or CatchUp).
	Duration time.Duration
	// CatchUp ends the recording once it has read everything the stream
	// held (a replay, not From.Live).
	CatchUp bool
	// CSV gets the rows (nil: only counted).
	CSV io.Writer
	// OnSample gets each sample recorded, as receiver.Recorder.OnSample
	// (the live view's plots): it must return at once. nil: none.
	OnSample func(h *telemetry.Header, seq uint32, s *sensor.Sample)
	// OnLive gets the progress every LiveEvery (default 500 ms), as
	// receiver.RecordConfig.OnLive. nil: none.
	OnLive    func(receiver.Progress)
	LiveEvery time.Duration
}

// RecordResult is what Record read.
type RecordResult struct {
	Recorder *receiver.Recorder // its Summary, Flush and metadata
	Device   string
	Messages uint64
	Bad      uint64 // messages dropped: bad headers or payload
	Other    uint64 // messages of another device than the first one, dropped
}

// Record reads one device's datagrams from NATS into a receiver.Recorder,
// which writes the same CSV as a recording over UDP and counts loss from
// the device's session and seq. An end of stream does not end it: the
// bridge starts a new session after a restart, and the gap between them
// is counted as loss.
func Record(ctx context.Context, cfg RecordConfig) (*RecordResult, error) {
	if cfg.CatchUp && cfg.From.Live {
		return nil, errors.New("bridge: catching up needs a stream position (from all, a sequence or a time), not live")
	}
	res := &RecordResult{Recorder: receiver.NewRecorder(cfg.CSV)}
	res.Recorder.OnSample = cfg.OnSample
	if cfg.Duration > 0 {
		res.Recorder.StopAfter(cfg.Duration)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstAt time.Time
	h := func(m Message, err error) {
		mu.Lock()
		defer mu.Unlock()
		res.Messages++
		switch {
		case err != nil:
			res.Bad++
		case res.Device != "" && m.Meta.Device != res.Device:
			res.Other++
		default:
			res.Device = m.Meta.Device
			_ = Each(m.Meta, m.Payload, func(dg []byte, _ telemetry.Header) { _ = res.Recorder.Add(dg) })
			if firstAt.IsZero() && res.Recorder.Stats.Samples > 0 {
				firstAt = time.Now()
			}
		}
		if res.Recorder.Full() || cfg.CatchUp && m.Pending == 0 {
			cancel()
		}
	}
	if cfg.CatchUp {
		// Nothing to catch up with: no message would end the wait.
		n, err := held(ctx, cfg.Conn, cfg.Subject)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return res, nil
		}
	}
	if cfg.OnLive != nil {
		every := cfg.LiveEvery
		if every <= 0 {
			every = 500 * time.Millisecond
		}
		liveDone := make(chan struct{})
		defer func() { cancel(); <-liveDone }()
		go func() {
			defer close(liveDone)
			each(ctx, every, func() {
				mu.Lock()
				var p receiver.Progress
				if !firstAt.IsZero() {
					p = progress(res.Recorder, time.Since(firstAt))
				}
				mu.Unlock()
				cfg.OnLive(p)
			})
		}()
	}
	if err := Subscribe(ctx, cfg.Conn, cfg.Subject, cfg.From, h); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if err := res.Recorder.Flush(); err != nil {
		return res, fmt.Errorf("bridge: writing rows: %w", err)
	}
	return res, nil
}

// held is how many messages of subject its stream holds.
func held(ctx context.Context, nc *nats.Conn, subject string) (uint64, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, fmt.Errorf("bridge: jetstream: %w", err)
	}
	name, err := js.StreamNameBySubject(ctx, subject)
	if err != nil {
		return 0, fmt.Errorf("bridge: no stream holds %s: %w", subject, err)
	}
	st, err := js.Stream(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("bridge: stream %s: %w", name, err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return 0, fmt.Errorf("bridge: stream %s: %w", name, err)
	}
	var n uint64
	for _, c := range info.State.Subjects { // one entry per subject the filter matches
		n += c
	}
	return n, nil
}

// Save finishes out, the file the rows of res went to, as a recording
// over UDP finishes its own: discarded when no sample came, put in place
// when complete, else kept under its partial name. Its sidecar says the
// rows were read from NATS at source, by program, for duration.
func (res *RecordResult) Save(out *receiver.Output, complete bool, source, program string, duration time.Duration) error {
	meta := res.Recorder.NewMetadata()
	meta.Complete, meta.Ended = complete, "read from NATS "+source
	meta.Device, meta.DurationAsked, meta.Recorder = res.Device, duration, program
	switch {
	case res.Recorder.Summary().Samples == 0:
		return out.Discard()
	case complete:
		return out.Commit(meta)
	}
	return out.Keep(meta)
}

// progress is a recorder's Progress as receiver.Recording reports it.
func progress(r *receiver.Recorder, elapsed time.Duration) receiver.Progress {
	st, tr := r.Stats, &r.Track
	return receiver.Progress{
		Started: true, Elapsed: elapsed, Samples: st.Samples,
		Lost: tr.Lost(), Duplicated: tr.Duplicates, Reordered: tr.Reordered,
		Late: st.Late, SensorErrors: st.SensorErrors, Written: r.Written(),
	}
}

// Connect connects to the NATS servers urls (comma-separated) as name,
// reconnecting for ever: what every command here that reads or writes
// NATS does. With retry a server that is not up yet is tried again in the
// background instead of failing now.
func Connect(urls, name string, retry bool) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if retry {
		opts = append(opts, nats.RetryOnFailedConnect(true))
	}
	nc, err := nats.Connect(urls, opts...)
	if err != nil {
		return nil, fmt.Errorf("bridge: NATS %s: %w", urls, err)
	}
	return nc, nil
}
