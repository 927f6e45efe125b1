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
	"time"

	"golang.org/x/sys/unix"
)

// Entry is one daemon found on the network.
type Entry struct {
	Instance string // the instance label
	Host     string // its host name, NAME.local
	Port     uint16
	Addrs    []netip.Addr
	TXT      map[string]string
}

// Addr is the daemon's control address, HOST:PORT of its first IPv4
// address, else of its first IPv6 one that needs no zone.
func (e Entry) Addr() string {
	if a, ok := pick(e.Addrs); ok {
		return netip.AddrPortFrom(a, e.Port).String()
	}
	return ""
}

// pick is the address to reach a host at: the first IPv4 one, else the
// first IPv6 one that is not link-local (it would need the interface).
func pick(as []netip.Addr) (netip.Addr, bool) {
	for _, a := range as {
		if a.Is4() {
			return a, true
		}
	}
	for _, a := range as {
		if !a.IsLinkLocalUnicast() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// DefaultWait is how long Browse and Resolve listen for answers.
const DefaultWait = 1500 * time.Millisecond

// query sends qs as a one-shot querier on every multicast interface (and
// loopback's group, for a responder on this host) and hands each valid
// response to fn until ctx ends or fn returns true. resend sends again.
func query(ctx context.Context, qs []Question, fn func(m *Msg) bool, resend <-chan []Question) error {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		return fmt.Errorf("discovery: querier socket: %w", err)
	}
	defer conn.Close()
	raw, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("discovery: querier socket: %w", err)
	}
	id := uint16(time.Now().UnixNano())
	send := func(qs []Question) error {
		b, err := AppendMsg(nil, &Msg{ID: id, Questions: qs})
		if err != nil {
			return err
		}
		sent := false
		var lastErr error
		for _, i := range interfaces() {
			_ = raw.Control(func(fd uintptr) {
				_ = unix.SetsockoptIPMreqn(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(i.index)})
			})
			if _, err := conn.WriteToUDPAddrPort(b, groupAddr); err != nil {
				lastErr = err
			} else {
				sent = true
			}
		}
		if !sent {
			if lastErr == nil {
				lastErr = ErrNoInterface
			}
			return fmt.Errorf("discovery: query: %w", lastErr)
		}
		return nil
	}
	if err := send(qs); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	got := make(chan *Msg, 64)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, MaxMsgLen)
		for {
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					close(got)
					return
				}
				continue
			}
			m, err := ParseMsg(buf[:n])
			if err != nil || !m.Response {
				continue // dropped: malformed, or not an answer
			}
			select {
			case got <- m:
			case <-ctx.Done():
			}
		}
	}()
	defer func() { _ = conn.SetReadDeadline(time.Now()); <-readDone }()
	for {
		select {
		case m, ok := <-got:
			if !ok {
				return nil
			}
			if fn(m) {
				return nil
			}
		case qs := <-resend:
			_ = send(qs)
		case <-ctx.Done():
			return nil
		}
	}
}

// collector assembles entries from the records of many answers.
type collector struct {
	instances []string // full instance names, in order found
	srv       map[string]SRV
	txt       map[string][]string
	addrs     map[string][]netip.Addr
}

func newCollector() *collector {
	return &collector{srv: map[string]SRV{}, txt: map[string][]string{}, addrs: map[string][]netip.Addr{}}
}

func (c *collector) add(m *Msg) {
	svc := ServiceType + "." + Domain
	for _, r := range m.Records {
		switch {
		case r.Type == TypePTR && r.Name == svc && r.TTL > 0 && strings.HasSuffix(r.PTR, "."+svc):
			if !slices.Contains(c.instances, r.PTR) {
				c.instances = append(c.instances, r.PTR)
			}
		case r.Type == TypeSRV:
			c.srv[r.Name] = r.SRV
		case r.Type == TypeTXT:
			c.txt[r.Name] = r.TXT
		case (r.Type == TypeA || r.Type == TypeAAAA) && r.TTL > 0:
			if !slices.Contains(c.addrs[r.Name], r.Addr) {
				c.addrs[r.Name] = append(c.addrs[r.Name], r.Addr)
			}
		}
	}
}

// missing lists the questions that would complete the entries.
func (c *collector) missing() []Question {
	var qs []Question
	for _, in := range c.instances {
		srv, ok := c.srv[in]
		if !ok {
			qs = append(qs, Question{Name: in, Type: TypeSRV})
		}
		if _, ok := c.txt[in]; !ok {
			qs = append(qs, Question{Name: in, Type: TypeTXT})
		}
		if _, usable := pick(c.addrs[srv.Target]); ok && !usable {
			qs = append(qs, Question{Name: srv.Target, Type: TypeA}, Question{Name: srv.Target, Type: TypeAAAA})
		}
	}
	return qs
}

func (c *collector) entries() []Entry {
	var out []Entry
	for _, in := range c.instances {
		srv, ok := c.srv[in]
		if _, usable := pick(c.addrs[srv.Target]); !ok || !usable {
			continue
		}
		e := Entry{Instance: strings.TrimSuffix(in, "."+ServiceType+"."+Domain), Host: srv.Target, Port: srv.Port, Addrs: c.addrs[srv.Target], TXT: map[string]string{}}
		for _, kv := range c.txt[in] {
			k, v, _ := strings.Cut(kv, "=")
			e.TXT[strings.ToLower(k)] = v
		}
		out = append(out, e)
	}
	return out
}

// Browse lists the daemons that answer within wait (DefaultWait if 0).
func Browse(ctx context.Context, wait time.Duration) ([]Entry, error) {
	if wait <= 0 {
		wait = DefaultWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	c := newCollector()
	resend := make(chan []Question, 1)
	// Ask again a third and two thirds of the way: a lost query or answer
	// costs no daemon.
	go func() {
		t := time.NewTicker(wait / 3)
		defer t.Stop()
		for range 2 {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			select {
			case resend <- []Question{{Name: ServiceType + "." + Domain, Type: TypePTR}}:
			default:
			}
		}
	}()
	err := query(ctx, []Question{{Name: ServiceType + "." + Domain, Type: TypePTR}}, func(m *Msg) bool {
		c.add(m)
		if qs := c.missing(); len(qs) > 0 {
			select {
			case resend <- qs:
			default:
			}
		}
		return false
	}, resend)
	if err != nil {
		return nil, err
	}
	return c.entries(), nil
}

// ErrNotFound is Resolve's error when no host answered.
var ErrNotFound = errors.New("discovery: no answer")

// IsLocal says whether host is a NAME.local name (with or without a port).
func IsLocal(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	return strings.HasSuffix(strings.ToLower(strings.TrimSuffix(h, ".")), "."+Domain)
}

// Resolve finds the address of NAME.local, IPv4 or else IPv6 (as
// Entry.Addr picks), waiting up to wait (DefaultWait if 0).
func Resolve(ctx context.Context, host string, wait time.Duration) (netip.Addr, error) {
	if wait <= 0 {
		wait = DefaultWait
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var found netip.Addr
	err := query(ctx, []Question{{Name: name, Type: TypeA}, {Name: name, Type: TypeAAAA}}, func(m *Msg) bool {
		var as []netip.Addr
		for _, r := range m.Records {
			if (r.Type == TypeA || r.Type == TypeAAAA) && r.Name == name && r.TTL > 0 {
				as = append(as, r.Addr)
			}
		}
		var ok bool
		found, ok = pick(as)
		return ok
	}, nil)
	if err != nil {
		return netip.Addr{}, err
	}
	if !found.IsValid() {
		return netip.Addr{}, fmt.Errorf("%w for %s within %s", ErrNotFound, host, wait)
	}
	return found, nil
}

// ResolveDevice turns HOST.local[:PORT] into ADDR[:PORT]; any other
// device string comes back as it is.
func ResolveDevice(ctx context.Context, device string) (string, error) {
	if !IsLocal(device) {
		return device, nil
	}
	host, port, err := net.SplitHostPort(device)
	if err != nil {
		host, port = device, ""
	}
	a, err := Resolve(ctx, host, 0)
	if err != nil {
		return "", err
	}
	if port == "" {
		return a.String(), nil
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", fmt.Errorf("discovery: port %q: %w", port, err)
	}
	return netip.AddrPortFrom(a, uint16(p)).String(), nil
}

// LookupDevice is ResolveDevice for a command's --device: it waits up to
// twice DefaultWait.
func LookupDevice(device string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*DefaultWait)
	defer cancel()
	return ResolveDevice(ctx, device)
}

// Watch browses every interval and reports daemons that appear (add) and
// those absent from three browses in a row (remove), keyed by instance,
// until ctx ends.
func Watch(ctx context.Context, every time.Duration, add, remove func(Entry)) {
	known := map[string]Entry{}
	missed := map[string]int{}
	for {
		es, err := Browse(ctx, 0)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			seen := map[string]bool{}
			for _, e := range es {
				seen[e.Instance] = true
				missed[e.Instance] = 0
				if _, ok := known[e.Instance]; !ok {
					known[e.Instance] = e
					add(e)
				}
			}
			for name, e := range known {
				if seen[name] {
					continue
				}
				if missed[name]++; missed[name] >= 3 {
					delete(known, name)
					delete(missed, name)
					remove(e)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
