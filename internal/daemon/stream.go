package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/detect"
	"github.com/imustream/imustream/stream"
	"github.com/imustream/imustream/telemetry"
)

// streamControl adapts the sender's subscriber set to control.Stream and
// reports the stream's and the sensor's part of the status reply.
type streamControl struct {
	subs     *stream.Subscribers
	sender   *stream.Sender
	clock    rt.Clock // the sender's: lease deadlines are on its time
	sensor   sensor.Sensor
	defLease time.Duration // for a new subscriber whose start names none
	pressure bool          // 56-byte records
	magQuat  bool          // 84-byte records
	batch    int
}

var _ control.Stream = (*streamControl)(nil)

func (s *streamControl) Start(req control.StartRequest) (control.StartResult, error) {
	var tagger *telemetry.Tagger
	if req.Auth != nil {
		if s.magQuat && s.batch > telemetry.MaxBatchMagQuatTagged {
			return control.StartResult{}, &control.CommandError{Code: control.CodeBadRequest,
				Message: fmt.Sprintf("a tagged stream of field and orientation records holds at most %d per datagram; run the daemon with --batch %d", telemetry.MaxBatchMagQuatTagged, telemetry.MaxBatchMagQuatTagged)}
		}
		if s.pressure && !s.magQuat && s.batch > telemetry.MaxBatchPressureTagged {
			return control.StartResult{}, &control.CommandError{Code: control.CodeBadRequest,
				Message: fmt.Sprintf("a tagged stream of pressure records holds at most %d per datagram; run the daemon with --batch %d", telemetry.MaxBatchPressureTagged, telemetry.MaxBatchPressureTagged)}
		}
		tagger = telemetry.NewTagger(telemetry.StreamKey(req.Auth.Key[:], req.Auth.Nonce[:]))
	}
	sub, created, err := s.subs.StartFrom(req.Local, req.Target, req.Lease, s.defLease, s.clock.Now(), tagger, req.Owner)
	if errors.Is(err, stream.ErrFull) {
		return control.StartResult{}, &control.CommandError{Code: control.CodeFull, Err: err,
			Message: fmt.Sprintf("subscriber limit reached (%d)", stream.MaxSubscribers)}
	}
	if errors.Is(err, stream.ErrOtherFormat) {
		return control.StartResult{}, &control.CommandError{Code: control.CodeBadTarget, Err: err,
			Message: "the target gets a rig's stream in its layout (--rig-to); choose another port"}
	}
	if err != nil {
		return control.StartResult{}, err
	}
	return control.StartResult{Created: created, Lease: sub.Lease(), Source: sub.Source, Tagged: sub.Tagged()}, nil
}

func (s *streamControl) Stop(target netip.AddrPort) error { return s.stop(target, stream.EndStopped) }

func (s *streamControl) Disallow(target netip.AddrPort) error {
	return s.stop(target, stream.EndNotAllowed)
}

func (s *streamControl) stop(target netip.AddrPort, why stream.EndReason) error {
	err := s.subs.Stop(target, why)
	if errors.Is(err, stream.ErrNotSubscribed) {
		return &control.CommandError{Code: control.CodeNotSubscribed, Err: err,
			Message: "not subscribed: " + target.String()}
	}
	return err
}

func (s *streamControl) StopAll(owner string) int { return s.subs.StopAll(owner) }

func (s *streamControl) Owner(target netip.AddrPort) (string, bool) { return s.subs.Owner(target) }

func (s *streamControl) Targets() []netip.AddrPort { return s.subs.Active() }

// status is the first part of the status reply: the stream and the sensor.
func (s *streamControl) status() []control.Field {
	st := s.sender.Stats()
	state := "idle"
	if st.Streaming {
		state = "streaming"
	}
	targets := s.Targets()
	to := make([]string, len(targets))
	for i, t := range targets {
		to[i] = t.String()
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	f := []control.Field{
		{Key: "state", Value: state},
		{Key: "subscribers", Value: strconv.Itoa(len(targets))},
		{Key: "to", Value: strings.Join(to, ",")},
		{Key: "session", Value: fmt.Sprintf("%08x", st.Session)},
		{Key: "seq", Value: u(uint64(st.NextSeq))},
		{Key: "rate", Value: strconv.Itoa(st.RateHz)},
		{Key: "batch", Value: strconv.Itoa(st.Batch)},
		{Key: "sensor", Value: s.sensor.String()},
		{Key: "ticks", Value: u(st.Ticks)},
		{Key: "datagrams", Value: u(st.Datagrams)},
		{Key: "late", Value: u(st.Late)},
		{Key: "skipped", Value: u(st.Skipped)},
		{Key: "max_late_us", Value: strconv.FormatInt(st.MaxLateNs/1000, 10)},
		{Key: "covered", Value: u(st.Covered)},
		{Key: "sensor_errors", Value: u(st.SensorErrors)},
	}
	var ds sensor.Stats // zero for a sensor that keeps none (sim)
	if c, ok := find[sensor.Counted](s.sensor); ok {
		ds = c.Stats()
	}
	f = append(f, control.Field{Key: "sensor_reinits", Value: u(ds.Reinits)})
	if ok, _ := s.sender.FIFO(); ok {
		f = append(f, control.Field{Key: "fifo_overflows", Value: u(ds.FIFOOverflows)})
	}
	if dev, ok := find[*detect.Device](s.sensor); ok && dev.Baro != nil {
		bs := dev.Baro.Stats()
		f = append(f, control.Field{Key: "baro_reads", Value: u(bs.Reads)}, control.Field{Key: "baro_errors", Value: u(bs.Errors)})
	}
	return append(f,
		control.Field{Key: "send_errors", Value: u(st.SendErrors)},
		control.Field{Key: "pruned", Value: u(st.Pruned)},
		control.Field{Key: "expired", Value: u(st.Expired)},
	)
}

// find returns the first sensor of type T in the chain of wrappers (such as
// a calibration) that sens is.
func find[T any](sens sensor.Sensor) (T, bool) {
	for {
		if t, ok := sens.(T); ok {
			return t, true
		}
		w, ok := sens.(interface{ Unwrap() sensor.Sensor })
		if !ok {
			var zero T
			return zero, false
		}
		sens = w.Unwrap()
	}
}

// HasMagQuat reports whether sens, or a sensor it wraps, adds the
// magnetic field or the orientation to its samples: its records are then
// 84 bytes.
func HasMagQuat(sens sensor.Sensor) bool {
	return sensor.HasOrientation(sens) || sensor.HasMag(sens)
}

// HasPressure reports whether sens, or the sensor it wraps, adds a
// barometer's pressure to its samples.
func HasPressure(sens sensor.Sensor) bool {
	dev, ok := find[*detect.Device](sens)
	return ok && dev.Baro != nil
}
