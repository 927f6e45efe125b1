// Command rigemu emulates a lab rig for the rig front-end's tests and
// measured runs: it sends the 19-byte command packet (byte 4: 1 = send,
// 0 = stop) every period from one socket, receives the samples on
// another, decodes them with a layout in the JSON form of
// `imustream rig-layout --as json`, and prints a JSON summary.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"sync"
	"time"
)

type field struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Offset int    `json:"offset"`
}

type layout struct {
	Order  string  `json:"order"`
	Size   int     `json:"size"`
	Every  int     `json:"every"`
	Fields []field `json:"fields"`
}

// Summary is what a run saw.
type Summary struct {
	Packets    int     `json:"packets"`     // command packets sent
	Samples    int     `json:"samples"`     // datagrams of the layout's size
	Other      int     `json:"other"`       // datagrams of another size
	FirstSeq   int64   `json:"first_seq"`   // -1 for none
	LastSeq    int64   `json:"last_seq"`    // -1 for none
	Missing    int64   `json:"missing"`     // seq steps above every, summed
	Backwards  int     `json:"backwards"`   // seq not above the one before
	AzMean     float64 `json:"az_mean"`     // mean of az, if the layout has it
	EndToLast  float64 `json:"end_to_last"` // s from the end (stop packet or last start) to the last sample; negative if none after
	AfterQuiet int     `json:"after_quiet"` // samples after -wait
}

func main() {
	daemon := flag.String("daemon", "", "the daemon's rig address HOST:PORT")
	bind := flag.String("bind", "127.0.0.1:0", "address the command packets come from")
	listen := flag.String("listen", "127.0.0.1:0", "address the samples come to (the daemon's --rig-to)")
	layoutFile := flag.String("layout", "", "the layout as `imustream rig-layout --as json` prints it")
	period := flag.Duration("period", time.Second, "time between command packets")
	run := flag.Duration("run", 5*time.Second, "how long to send start packets")
	end := flag.String("end", "stop", "how the run ends: stop (a stop packet) or silent")
	wait := flag.Duration("wait", 2*time.Second, "how long to keep receiving after the end")
	flag.Parse()
	if err := emulate(*daemon, *bind, *listen, *layoutFile, *period, *run, *end, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "rigemu:", err)
		os.Exit(1)
	}
}

func emulate(daemon, bind, listen, layoutFile string, period, run time.Duration, end string, wait time.Duration) error {
	raw, err := os.ReadFile(layoutFile)
	if err != nil {
		return err
	}
	var l layout
	if err := json.Unmarshal(raw, &l); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if l.Order == "be" {
		bo = binary.BigEndian
	}
	daddr, err := net.ResolveUDPAddr("udp", daemon)
	if err != nil {
		return err
	}
	baddr, _ := net.ResolveUDPAddr("udp", bind)
	laddr, _ := net.ResolveUDPAddr("udp", listen)
	cmd, err := net.ListenUDP("udp", baddr)
	if err != nil {
		return err
	}
	defer cmd.Close()
	rx, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return err
	}
	defer rx.Close()
	_ = rx.SetReadBuffer(1 << 20)
	fmt.Fprintf(os.Stderr, "rigemu: listening on %s\n", rx.LocalAddr())

	var mu sync.Mutex
	s := Summary{FirstSeq: -1, LastSeq: -1}
	var lastAt time.Time
	var azSum float64
	var quietAt time.Time // set once the wait after the end is over
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, _, err := rx.ReadFromUDP(buf)
			if err != nil {
				return
			}
			now := time.Now()
			mu.Lock()
			if n != l.Size {
				s.Other++
				mu.Unlock()
				continue
			}
			if !quietAt.IsZero() {
				s.AfterQuiet++
			}
			s.Samples++
			lastAt = now
			for _, f := range l.Fields {
				v := decode(buf[f.Offset:n], f.Type, bo)
				switch f.Name {
				case "seq":
					seq := int64(v)
					if s.FirstSeq < 0 {
						s.FirstSeq = seq
					} else if step := seq - s.LastSeq; step <= 0 {
						s.Backwards++
					} else if every := int64(max(1, l.Every)); step > every {
						s.Missing += step/every - 1
					}
					s.LastSeq = seq
				case "az":
					azSum += v
				}
			}
			mu.Unlock()
		}
	}()

	pkt := make([]byte, 19)
	send := func(v byte) error {
		pkt[4] = v
		_, err := cmd.WriteToUDP(pkt, daddr)
		mu.Lock()
		s.Packets++
		mu.Unlock()
		return err
	}
	stopAt := time.Now().Add(run)
	var endAt time.Time
	for next := time.Now(); next.Before(stopAt); next = next.Add(period) {
		time.Sleep(time.Until(next))
		if err := send(1); err != nil {
			return err
		}
		endAt = time.Now()
	}
	time.Sleep(time.Until(stopAt))
	if end == "stop" {
		if err := send(0); err != nil {
			return err
		}
		endAt = time.Now()
	}
	time.Sleep(wait)
	mu.Lock()
	quietAt = time.Now()
	mu.Unlock()
	time.Sleep(period) // anything now is a stream that did not end
	rx.Close()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if s.Samples > 0 {
		s.AzMean = azSum / float64(s.Samples)
		s.EndToLast = lastAt.Sub(endAt).Seconds()
	}
	return json.NewEncoder(os.Stdout).Encode(s)
}

func decode(b []byte, typ string, bo binary.ByteOrder) float64 {
	switch typ {
	case "u8":
		return float64(b[0])
	case "i8":
		return float64(int8(b[0]))
	case "u16":
		return float64(bo.Uint16(b))
	case "i16":
		return float64(int16(bo.Uint16(b)))
	case "u32":
		return float64(bo.Uint32(b))
	case "i32":
		return float64(int32(bo.Uint32(b)))
	case "u64":
		return float64(bo.Uint64(b))
	case "i64":
		return float64(int64(bo.Uint64(b)))
	case "f32":
		return float64(math.Float32frombits(bo.Uint32(b)))
	case "f64":
		return math.Float64frombits(bo.Uint64(b))
	}
	return math.NaN()
}
