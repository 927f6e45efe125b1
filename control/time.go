package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/imustream/imustream/internal/rt"
)

// MaxTimeHold bounds a time reply's tx − rx: the daemon answers a time
// command at once, so a reply that says it held the command longer is not
// believed.
const MaxTimeHold = time.Second

// ErrBadTime is a time reply whose clock fields are missing, malformed or
// impossible.
var ErrBadTime = errors.New("control: bad time reply")

// DeviceTimes are the daemon's clocks in a time reply, ns: at the
// command's arrival (Rx: the kernel's arrival time where it gives one,
// else right after the socket read) and at its reply
// (Tx, before the reply is formatted and signed). Mono is CLOCK_MONOTONIC,
// the clock of a sample's t_mono_ns; Wall is CLOCK_REALTIME, that of
// t_wall_ns.
type DeviceTimes struct {
	Rx, Tx         int64
	RxWall, TxWall int64
}

// Fields returns d as the fields of a time reply, in order.
func (d DeviceTimes) Fields() []Field {
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []Field{{"rx", i(d.Rx)}, {"tx", i(d.Tx)}, {"rx_wall", i(d.RxWall)}, {"tx_wall", i(d.TxWall)}}
}

// ParseTimeReply reads the clocks of an ok time reply. Each of rx, tx,
// rx_wall and tx_wall must appear once, as a decimal ns count in
// 1..2^63-1, with Rx ≤ Tx ≤ Rx + MaxTimeHold and the wall clocks as far
// apart; other fields are ignored (later versions may add some).
func ParseTimeReply(r Reply) (DeviceTimes, error) {
	var d DeviceTimes
	if !r.OK || r.Verb != VerbTime {
		return d, fmt.Errorf("%w: not an ok time reply", ErrBadTime)
	}
	dst := map[string]*int64{"rx": &d.Rx, "tx": &d.Tx, "rx_wall": &d.RxWall, "tx_wall": &d.TxWall}
	seen := 0
	for _, f := range r.Fields {
		p, ok := dst[f.Key]
		if !ok {
			continue
		}
		if *p != 0 {
			return d, fmt.Errorf("%w: %s twice", ErrBadTime, f.Key)
		}
		v, err := strconv.ParseInt(f.Value, 10, 64)
		if err != nil || v <= 0 || f.Value[0] == '+' {
			return d, fmt.Errorf("%w: %s=%q is not a time in ns", ErrBadTime, f.Key, f.Value)
		}
		*p = v
		seen++
	}
	if seen != len(dst) {
		return d, fmt.Errorf("%w: want rx, tx, rx_wall and tx_wall", ErrBadTime)
	}
	if hold := d.Tx - d.Rx; hold < 0 || hold > int64(MaxTimeHold) {
		return d, fmt.Errorf("%w: tx − rx = %d ns", ErrBadTime, hold)
	}
	if hold := d.TxWall - d.RxWall; hold < -int64(MaxTimeHold) || hold > int64(MaxTimeHold) {
		return d, fmt.Errorf("%w: tx_wall − rx_wall = %d ns", ErrBadTime, hold)
	}
	return d, nil
}

// TimeSample is one exchange of the time sync: this host's clocks when
// the command left (Sent: T1) and its reply arrived (Received: T4), and
// the daemon's between (T2, T3). This host's clocks are the same two as
// the daemon's: CLOCK_MONOTONIC and CLOCK_REALTIME, ns.
type TimeSample struct {
	Sent, Received         int64
	SentWall, ReceivedWall int64
	Device                 DeviceTimes
}

// RTT is the round trip less the daemon's hold: what the network and the
// two hosts' stacks took.
func (s TimeSample) RTT() int64 { return s.Received - s.Sent - (s.Device.Tx - s.Device.Rx) }

// Offset is the daemon's CLOCK_MONOTONIC minus this host's, as NTP
// estimates it: exact when the way there took as long as the way back.
func (s TimeSample) Offset() int64 {
	return ((s.Device.Rx - s.Sent) + (s.Device.Tx - s.Received)) / 2
}

// Time runs one time exchange: one attempt, no retry (a late reply is
// useless to the sync, which asks again soon), signed with the client's
// key when it has one. Received is the reply's arrival: the kernel's
// arrival time where it gives one, else the reader goroutine's reading.
func (c *Client) Time(ctx context.Context) (TimeSample, error) {
	var s TimeSample
	cmd := Command{ID: c.newID(), Verb: VerbTime}
	req, done := c.register(cmd)
	defer done()
	line := []byte(cmd.String() + "\n")
	if c.opts.Key != nil {
		boot := c.bootNonce()
		if boot == "" {
			var err error
			if boot, err = c.hello(ctx); err != nil {
				return s, fmt.Errorf("control: time: %w", err)
			}
		}
		cmd.From, cmd.TS, cmd.Boot = c.opts.From, c.nextTS(), boot
		body := []byte(cmd.String())
		tag := c.opts.Key.CommandTag(body)
		c.mu.Lock()
		req.tags = append(req.tags, tag)
		c.mu.Unlock()
		line = AppendSigned(nil, body, tag)
	}
	t := time.NewTimer(c.opts.Timeout)
	defer t.Stop()
	s.Sent, s.SentWall = rt.Stamp()
	if _, err := c.conn.WriteToUDP(line, net.UDPAddrFromAddrPort(c.device)); err != nil {
		return s, fmt.Errorf("control: send time: %w", err)
	}
	select {
	case a := <-req.ch:
		if !a.r.OK {
			return s, &ReplyError{Reply: a.r}
		}
		d, err := ParseTimeReply(a.r)
		if err != nil {
			return s, err
		}
		s.Received, s.ReceivedWall, s.Device = a.mono, a.wall, d
		return s, nil
	case <-t.C:
		// A daemon that restarted drops this as another boot's; the next
		// command through Do learns the new boot nonce on its retry.
		c.mu.Lock()
		bad := req.unsigned
		c.mu.Unlock()
		return s, &NoReplyError{Device: c.device, Verb: VerbTime, Attempts: 1, Timeout: c.opts.Timeout, Signed: c.opts.Key != nil, BadReplies: bad}
	case <-ctx.Done():
		return s, fmt.Errorf("control: time: %w", ctx.Err())
	}
}
