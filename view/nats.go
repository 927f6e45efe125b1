package view

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/imustream/imustream/bridge"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// NATSSource is a device's stream as imustream bridge publishes it.
type NATSSource struct {
	URLs    string // NATS servers, comma-separated
	Subject string // one device's PREFIX.DEVICE.imu
	From    bridge.From
}

// ReadOnlyNATS is what the page says instead of its buttons when the view
// reads NATS: the bridge keeps the device's stream, and the page has no
// daemon to ask.
const ReadOnlyNATS = "read from NATS: the bridge keeps the stream going; start and stop it there"

// NewNATS returns a view of a stream read from NATS: cfg as for New, its
// page without start and stop (the view holds no lease). Run it with
// RunNATS.
func NewNATS(cfg Config, src NATSSource) *View {
	if cfg.Hub.ReadOnly == "" {
		cfg.Hub.ReadOnly = ReadOnlyNATS
	}
	if cfg.Hub.Title == "" {
		cfg.Hub.Title = src.Subject
	}
	v := New(cfg)
	v.nats = &src
	return v
}

// RunNATS serves the pages and follows the view's NATS subject until ctx
// ends. It returns one result, summed up as a recording's, and what
// failed: a subject no stream holds fails at once when read from a
// stream position; read live, it waits for messages.
func (v *View) RunNATS(ctx context.Context) ([]*receiver.RecordResult, error) {
	if v.nats == nil {
		return nil, errors.New("view: RunNATS needs a view made by NewNATS")
	}
	if v.ran.Swap(true) {
		return nil, errors.New("view: a view runs once")
	}
	src := *v.nats
	nc, err := bridge.Connect(src.URLs, "imustream view", false)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	defer nc.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	hubCtx, stopHub := context.WithCancel(ctx)
	defer stopHub()
	wg.Go(func() { v.hub.Run(hubCtx) })

	samplers := append([]Sink{v.hub}, v.cfg.Sinks...)
	v.hub.SetRunning(true)
	defer v.hub.SetRunning(false)
	res, err := bridge.Record(ctx, bridge.RecordConfig{
		Conn: nc, Subject: src.Subject, From: src.From,
		OnSample: func(h *telemetry.Header, seq uint32, s *sensor.Sample) {
			for _, k := range samplers {
				k.Sample(h, seq, s)
			}
		},
		LiveEvery: v.cfg.LiveEvery,
		OnLive: func(p receiver.Progress) {
			v.hub.SetProgress(p)
			if v.cfg.OnLive != nil {
				v.cfg.OnLive(p)
			}
		},
	})
	if res == nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	out := &receiver.RecordResult{Summary: res.Recorder.Summary(), Ending: receiver.EndStopped,
		Ended: fmt.Sprintf("stopped; %d NATS messages read, %d malformed, %d of another device", res.Messages, res.Bad, res.Other)}
	if v.cfg.OnRun != nil {
		v.cfg.OnRun(out, err)
	}
	if err != nil {
		err = fmt.Errorf("view: %w", err)
	}
	return []*receiver.RecordResult{out}, err
}
