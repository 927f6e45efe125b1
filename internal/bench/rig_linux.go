package bench

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// rigRun is the rig of Config.Rig: a start packet every second to the
// daemon's rig port, and a sink for its samples.
type rigRun struct {
	cmd     *net.UDPAddr // the daemon's --rig-listen
	sink    *net.UDPConn // the daemon's --rig-to
	packets atomic.Uint64
	samples atomic.Uint64
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// rigArgs opens the rig's sample sink and picks the rig port: the
// daemon's flags for them.
func (s *session) rigArgs() ([]string, error) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("bench: rig sink: %w", err)
	}
	s.onClose(func() { sink.Close() })
	// A port free a moment ago: the daemon binds it next.
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("bench: rig port: %w", err)
	}
	cmd := probe.LocalAddr().(*net.UDPAddr)
	probe.Close()
	s.rig = &rigRun{cmd: cmd, sink: sink}
	return []string{"--rig-listen", cmd.String(), "--rig-to", sink.LocalAddr().String()}, nil
}

// startRig sends the rig's start packet every second and drains its
// samples until the session closes.
func (s *session) startRig(ctx context.Context) error {
	r := s.rig
	if r == nil {
		return nil
	}
	c, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, r.cmd)
	if err != nil {
		return fmt.Errorf("bench: rig socket: %w", err)
	}
	s.onClose(func() { c.Close() })
	ctx, r.cancel = context.WithCancel(ctx)
	s.onClose(r.stop)
	r.wg.Go(func() {
		pkt := make([]byte, 19)
		pkt[4] = 1
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if _, err := c.Write(pkt); err == nil {
				r.packets.Add(1)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	r.wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := r.sink.ReadFromUDP(buf); err != nil {
				return
			}
			r.samples.Add(1)
		}
	})
	return nil
}

func (r *rigRun) stop() {
	r.cancel()
	_ = r.sink.SetReadDeadline(time.Now())
	r.wg.Wait()
}
