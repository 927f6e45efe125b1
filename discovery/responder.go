package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ServiceType is the DNS-SD service of an imustream daemon.
const ServiceType = "_imustream._udp"

// Domain is mDNS's.
const Domain = "local"

var (
	groupV4   = netip.MustParseAddr("224.0.0.251")
	groupV6   = netip.MustParseAddr("ff02::fb")
	mdnsPort  = uint16(5353)
	groupAddr = netip.AddrPortFrom(groupV4, mdnsPort)
)

// TTLs (RFC 6762 §10): host records 120 s, the others 75 min.
const (
	ttlHost  = 120
	ttlOther = 4500
)

// Service is what a Responder announces.
type Service struct {
	Instance string   // the instance's label, e.g. "imustream on pi-3"
	Host     string   // the host's label: Host.local resolves to the interfaces' addresses
	Port     uint16   // the control port
	TXT      []string // key=value strings
}

// Responder answers mDNS queries for one Service on every interface and
// announces it when it starts and says goodbye when it stops.
type Responder struct {
	svc   Service
	conn  *net.UDPConn
	conn6 *net.UDPConn // ff02::fb; nil where no interface has IPv6

	mu     sync.Mutex
	ifaces []iface
	done   chan struct{}
	sendMu sync.Mutex // multicast sets the socket's interface per send
}

type iface struct {
	index int
	v4    bool         // the interface has IPv4: 224.0.0.251 is joined on it
	addrs []netip.Addr // the A records
	// v6 says the interface has IPv6, so ff02::fb is joined on it; addrs6
	// are the AAAA records (only addresses the daemon listens on).
	v6     bool
	addrs6 []netip.Addr
}

// names the responder answers for, lower case.
func (s Service) serviceName() string  { return ServiceType + "." + Domain }
func (s Service) instanceName() string { return s.Instance + "." + s.serviceName() }
func (s Service) hostName() string     { return s.Host + "." + Domain }

// ErrNoInterface is NewResponder's error when no interface can multicast.
var ErrNoInterface = errors.New("discovery: no up, multicast-capable interface with an address")

// checkLabel refuses a label DNS cannot carry in our dotted form.
func checkLabel(what, s string) error {
	if s == "" || len(s) > 63 || strings.ContainsAny(s, ".\x00") {
		return fmt.Errorf("discovery: %s %q: want 1..63 bytes without dots", what, s)
	}
	return nil
}

// NewResponder opens port 5353 (shared with any other responder, as
// avahi's) and joins the mDNS groups, 224.0.0.251 and ff02::fb, on every
// up, multicast-capable interface with an IPv4 address (and IPv6 where it
// has it); with a valid, specified on, only on the interface that has it,
// announcing that address alone (A or AAAA). An unspecified on (a daemon
// on the wildcard address, which takes both families) announces every
// address of those interfaces. Queries over IPv6 get the same answers.
func NewResponder(svc Service, on netip.Addr) (*Responder, error) {
	if err := checkLabel("instance", svc.Instance); err != nil {
		return nil, err
	}
	if err := checkLabel("host", svc.Host); err != nil {
		return nil, err
	}
	svc.Instance, svc.Host = strings.ToLower(svc.Instance), strings.ToLower(svc.Host)
	ifs := interfaces()
	if on.IsValid() && !on.IsUnspecified() {
		on = on.Unmap()
		var only []iface
		for _, i := range ifs {
			switch {
			case slices.Contains(i.addrs, on):
				only = append(only, iface{index: i.index, v4: true, addrs: []netip.Addr{on}, v6: i.v6})
			case slices.Contains(i.addrs6, on.WithZone("")):
				only = append(only, iface{index: i.index, v4: i.v4, addrs6: []netip.Addr{on.WithZone("")}, v6: true})
			}
		}
		ifs = only
	}
	if len(ifs) == 0 {
		return nil, ErrNoInterface
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			if serr == nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:5353")
	if err != nil {
		return nil, fmt.Errorf("discovery: listen on 5353: %w", err)
	}
	conn := pc.(*net.UDPConn)
	r := &Responder{svc: svc, conn: conn, ifaces: ifs, done: make(chan struct{})}
	raw, err := conn.SyscallConn()
	if err == nil {
		err = raw.Control(func(fd uintptr) {
			for _, i := range ifs {
				if !i.v4 {
					continue
				}
				mreq := &unix.IPMreqn{Multiaddr: groupV4.As4(), Ifindex: int32(i.index)}
				if e := unix.SetsockoptIPMreqn(int(fd), unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); e != nil && err == nil {
					err = e
				}
			}
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 255)
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 1)
		})
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("discovery: join 224.0.0.251: %w", err)
	}
	// IPv6 is a plus: a host without it (or a socket it refuses) answers
	// over IPv4 alone.
	r.conn6 = listen6(lc, ifs)
	return r, nil
}

// listen6 opens [::]:5353 (IPv6 only) and joins ff02::fb on the
// interfaces that have IPv6; nil when none does or the system refuses.
func listen6(lc net.ListenConfig, ifs []iface) *net.UDPConn {
	if !slices.ContainsFunc(ifs, func(i iface) bool { return i.v6 }) {
		return nil
	}
	pc, err := lc.ListenPacket(context.Background(), "udp6", "[::]:5353")
	if err != nil {
		return nil
	}
	conn := pc.(*net.UDPConn)
	raw, err := conn.SyscallConn()
	joined := false
	if err == nil {
		_ = raw.Control(func(fd uintptr) {
			for _, i := range ifs {
				if !i.v6 {
					continue
				}
				mreq := &unix.IPv6Mreq{Multiaddr: groupV6.As16(), Interface: uint32(i.index)}
				if unix.SetsockoptIPv6Mreq(int(fd), unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, mreq) == nil {
					joined = true
				}
			}
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 255)
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 1)
		})
	}
	if !joined {
		conn.Close()
		return nil
	}
	return conn
}

// interfaces lists the up, multicast-capable, non-loopback interfaces
// with an IPv4 or IPv6 address, with their addresses.
func interfaces() []iface {
	all, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []iface
	for _, ni := range all {
		if ni.Flags&net.FlagUp == 0 || ni.Flags&net.FlagMulticast == 0 || ni.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ni.Addrs()
		i := iface{index: ni.Index}
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			switch {
			case err != nil:
			case p.Addr().Is4():
				i.v4 = true
				i.addrs = append(i.addrs, p.Addr())
			case p.Addr().Is6():
				i.v6 = true
				i.addrs6 = append(i.addrs6, p.Addr())
			}
		}
		if i.v4 || i.v6 {
			out = append(out, i)
		}
	}
	return out
}

// Run announces the service, answers queries until ctx ends, then says
// goodbye (the records with TTL 0) and closes the socket.
func (r *Responder) Run(ctx context.Context) error {
	defer close(r.done)
	defer r.conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = r.conn.SetReadDeadline(time.Now()) })
	defer stop()
	if r.conn6 != nil {
		defer r.conn6.Close()
		stop6 := context.AfterFunc(ctx, func() { _ = r.conn6.SetReadDeadline(time.Now()) })
		defer stop6()
		served6 := make(chan struct{})
		defer func() { <-served6 }()
		go func() { defer close(served6); r.serve(ctx, r.conn6) }()
	}
	// Two announcements a second apart (RFC 6762 §8.3).
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		for i := 0; i < 2; i++ {
			r.multicast(r.records(nil, false), false)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	defer func() { <-announced; r.multicast(r.records(nil, false), true) }()
	r.serve(ctx, r.conn)
	return nil
}

// serve answers the queries that come to conn until ctx ends.
func (r *Responder) serve(ctx context.Context, conn *net.UDPConn) {
	buf := make([]byte, MaxMsgLen)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m, err := ParseMsg(buf[:n])
		if err != nil || m.Response {
			continue // bad packets are dropped; others' answers are not ours to handle
		}
		r.answer(conn, m, from)
	}
}

// records are the answers to questions (nil: all of them, for an
// announcement), with addresses of ifc (nil: of every interface).
func (r *Responder) records(qs []Question, unicastLegacy bool) []Record {
	s := r.svc
	ptr := Record{Name: s.serviceName(), Type: TypePTR, TTL: ttlOther, PTR: s.instanceName()}
	srv := Record{Name: s.instanceName(), Type: TypeSRV, Flush: true, TTL: ttlHost, SRV: SRV{Port: s.Port, Target: s.hostName()}}
	txt := Record{Name: s.instanceName(), Type: TypeTXT, Flush: true, TTL: ttlOther, TXT: s.TXT}
	enum := Record{Name: "_services._dns-sd._udp." + Domain, Type: TypePTR, TTL: ttlOther, PTR: s.serviceName()}
	var addrs, addrs6 []Record
	r.mu.Lock()
	for _, i := range r.ifaces {
		for _, a := range i.addrs {
			addrs = append(addrs, Record{Name: s.hostName(), Type: TypeA, Flush: true, TTL: ttlHost, Addr: a})
		}
		for _, a := range i.addrs6 {
			addrs6 = append(addrs6, Record{Name: s.hostName(), Type: TypeAAAA, Flush: true, TTL: ttlHost, Addr: a})
		}
	}
	r.mu.Unlock()
	addrs = append(addrs, addrs6...)
	if qs == nil {
		return append([]Record{ptr, srv, txt}, addrs...)
	}
	var out []Record
	add := func(rs ...Record) {
		for _, x := range rs {
			if !slices.ContainsFunc(out, func(y Record) bool { return y.Name == x.Name && y.Type == x.Type && y.Addr == x.Addr }) {
				out = append(out, x)
			}
		}
	}
	for _, q := range qs {
		any := q.Type == TypeANY
		switch q.Name {
		case s.serviceName():
			if any || q.Type == TypePTR {
				add(ptr, srv, txt) // the additional records a browser needs next
				add(addrs...)
			}
		case s.instanceName():
			if any || q.Type == TypeSRV {
				add(srv)
				add(addrs...)
			}
			if any || q.Type == TypeTXT {
				add(txt)
			}
		case s.hostName():
			for _, a := range addrs {
				if any || q.Type == a.Type {
					add(a)
				}
			}
		case enum.Name:
			if any || q.Type == TypePTR {
				add(enum)
			}
		}
	}
	if unicastLegacy {
		// RFC 6762 §6.7: no cache-flush bit, TTL at most 10 s.
		for i := range out {
			out[i].Flush = false
			out[i].TTL = min(out[i].TTL, 10)
		}
	}
	return out
}

// answer replies to a query: to a one-shot querier (source port not
// 5353) by unicast with its id and questions; otherwise by multicast,
// or by unicast when every question asks for it (QU).
func (r *Responder) answer(conn *net.UDPConn, q *Msg, from netip.AddrPort) {
	legacy := from.Port() != mdnsPort
	rs := r.records(q.Questions, legacy)
	if len(rs) == 0 {
		return
	}
	resp := &Msg{Response: true, Records: rs}
	if legacy {
		resp.ID, resp.Questions = q.ID, q.Questions
	}
	qu := !slices.ContainsFunc(q.Questions, func(x Question) bool { return !x.Unicast })
	if legacy || qu {
		if b, err := AppendMsg(nil, resp); err == nil {
			_, _ = conn.WriteToUDPAddrPort(b, from)
		}
		return
	}
	r.multicast(rs, false)
}

// multicast sends records to the groups on every interface, ff02::fb
// where it has IPv6 (goodbye: with TTL 0).
func (r *Responder) multicast(rs []Record, goodbye bool) {
	if goodbye {
		rs = slices.Clone(rs)
		for i := range rs {
			rs[i].TTL = 0
		}
	}
	b, err := AppendMsg(nil, &Msg{Response: true, Records: rs})
	if err != nil {
		return
	}
	raw, err := r.conn.SyscallConn()
	if err != nil {
		return
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	ifs := slices.Clone(r.ifaces)
	r.mu.Unlock()
	for _, i := range ifs {
		if i.v4 {
			_ = raw.Control(func(fd uintptr) {
				_ = unix.SetsockoptIPMreqn(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(i.index)})
			})
			_, _ = r.conn.WriteToUDPAddrPort(b, groupAddr)
		}
		if r.conn6 != nil && i.v6 {
			// The zone picks the interface of a link-local group.
			_, _ = r.conn6.WriteToUDPAddrPort(b, netip.AddrPortFrom(groupV6.WithZone(strconv.Itoa(i.index)), mdnsPort))
		}
	}
}
