//go:build linux

// Package netemu delays Ethernet frames between two interfaces, as
// `tc qdisc add … netem delay D J` delays them on one, for tests on
// kernels built without sch_netem. A Bridge forwards every frame that
// arrives on one interface out of the other after D ± J (uniform, as netem
// draws its jitter without a distribution table; frames overtake each
// other when their draws say so, as with netem). It works on raw
// (AF_PACKET) sockets opened in a network namespace that holds the two
// interfaces and nothing else: test support, not for production.
package netemu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Bridge forwards frames both ways between two interfaces.
type Bridge struct {
	delay, jitter time.Duration
	fds           [2]int
	ifs           [2]int
	stop          atomic.Bool
	wg            sync.WaitGroup
	mu            sync.Mutex // rng
	rng           *rand.Rand
	Forwarded     atomic.Uint64
}

// Start opens raw sockets on interfaces a and b of network namespace ns
// (a name under /run/netns) and forwards between them until Close.
func Start(ns, a, b string, delay, jitter time.Duration, seed uint64) (*Bridge, error) {
	br := &Bridge{fds: [2]int{-1, -1}, delay: delay, jitter: jitter, rng: rand.New(rand.NewPCG(seed, 0x6e65746d))}
	if err := inNamespace(ns, func() error {
		for i, name := range []string{a, b} {
			ifc, err := net.InterfaceByName(name)
			if err != nil {
				return err
			}
			fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
			if err != nil {
				return fmt.Errorf("netemu: packet socket: %w", err)
			}
			br.fds[i], br.ifs[i] = fd, ifc.Index
			if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
				return fmt.Errorf("netemu: bind %s: %w", name, err)
			}
		}
		return nil
	}); err != nil {
		br.closeFDs()
		return nil, err
	}
	br.wg.Go(br.run)
	return br, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// inNamespace runs f on a thread inside ns. The sockets f opens stay in
// ns; the thread goes back, or ends with its goroutine if it cannot.
func inNamespace(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netemu: setns %s: %w", ns, err)
			return
		}
		err = f()
		if serr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); serr != nil {
			errc <- errors.Join(err, serr) // the thread stays locked and dies with this goroutine
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

func (br *Bridge) draw() time.Duration {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.jitter <= 0 {
		return br.delay
	}
	return br.delay - br.jitter + time.Duration(br.rng.Int64N(int64(2*br.jitter)+1))
}

// run reads both interfaces from one thread, so that neither way waits
// longer than the other for a reader to wake, and sends each frame out of
// the other interface after its draw.
func (br *Bridge) run() {
	buf := make([]byte, 65536)
	pfd := []unix.PollFd{{Fd: int32(br.fds[0]), Events: unix.POLLIN}, {Fd: int32(br.fds[1]), Events: unix.POLLIN}}
	for !br.stop.Load() {
		if _, err := unix.Poll(pfd, 50); err != nil {
			continue // EINTR
		}
		for i := range pfd {
			if pfd[i].Revents&unix.POLLIN == 0 {
				continue
			}
			for {
				n, from, err := unix.Recvfrom(br.fds[i], buf, unix.MSG_DONTWAIT)
				if err != nil {
					break // drained
				}
				if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
					continue // our own sends on this interface
				}
				br.send(append([]byte(nil), buf[:n]...), br.fds[1-i], br.ifs[1-i])
			}
		}
	}
}

func (br *Bridge) send(frame []byte, out, outIf int) {
	fixUDPChecksum(frame)
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: outIf}
	br.wg.Add(1)
	time.AfterFunc(br.draw(), func() {
		defer br.wg.Done()
		if !br.stop.Load() && unix.Sendto(out, frame, 0, to) == nil {
			br.Forwarded.Add(1)
		}
	})
}

// fixUDPChecksum fills in the checksum of an IPv4 UDP datagram: a veth
// leaves it to the receiving end ("checksum offload"), and a frame sent
// again from a raw socket would arrive with it unfilled.
func fixUDPChecksum(f []byte) {
	if len(f) < 14+20 || binary.BigEndian.Uint16(f[12:14]) != 0x0800 {
		return
	}
	ip := f[14:]
	ihl := int(ip[0]&0x0f) * 4
	if ip[9] != 17 || ihl < 20 || len(ip) < ihl+8 {
		return
	}
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if total > len(ip) || total < ihl+8 {
		return
	}
	udp := ip[ihl:total]
	udp[6], udp[7] = 0, 0
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	add(ip[12:20]) // source and destination
	sum += 17 + uint32(len(udp))
	add(udp)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	c := ^uint16(sum)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:8], c)
}

func (br *Bridge) closeFDs() {
	for _, fd := range br.fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// Close stops forwarding, waits for the frames in flight, and closes the
// sockets.
func (br *Bridge) Close() {
	br.stop.Store(true)
	br.wg.Wait()
	br.closeFDs()
}
