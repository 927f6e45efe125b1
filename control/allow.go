package control

import (
	"fmt"
	"net/netip"
	"strings"
)

// AllowList is the networks commands are accepted from and streams may go
// to, as the daemon's repeatable --allow flag and config key take it: CIDRs
// or single addresses, comma-separated or one per flag.
type AllowList []netip.Prefix

func (l AllowList) String() string {
	s := make([]string, len(l))
	for i, p := range l {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Set adds the networks of v.
func (l *AllowList) Set(v string) error {
	for f := range strings.SplitSeq(v, ",") {
		p, err := ParsePrefix(strings.TrimSpace(f))
		if err != nil {
			return err
		}
		*l = append(*l, p)
	}
	return nil
}

// ParsePrefix takes a CIDR or a single address. An IPv4-mapped IPv6 form
// (::ffff:192.168.1.10, ::ffff:192.168.1.0/120) is the IPv4 network it
// maps, since senders are matched by their IPv4 address. A CIDR with bits
// set past its prefix (192.168.1.10/24) is refused with its canonical form:
// widening it silently (to 192.168.1.0/24, or with /0 to everything) would
// admit more than was written. A zone is not part of an allow list entry.
func ParsePrefix(s string) (netip.Prefix, error) {
	bad := fmt.Errorf("control: %q is not a CIDR like 192.168.1.0/24 or an address", s)
	if strings.Contains(s, "%") {
		return netip.Prefix{}, fmt.Errorf("control: %q: no zone in an allow list entry (fe80::/64 admits link-local senders on every interface)", s)
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, bad
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, bad
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("control: %q mixes IPv4-mapped and IPv6 addresses; write the IPv4 network", s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("control: %q has bits set past its /%d: write %s (or the address alone for one host)", s, p.Bits(), m)
	}
	return p, nil
}

// Wide reports whether l admits every address of a family (a /0): worth
// a loud warning, since the allow list is then no check at all.
func (l AllowList) Wide() bool {
	for _, p := range l {
		if p.Bits() == 0 {
			return true
		}
	}
	return false
}

// isGroup reports whether a reaches more than one host: multicast, or the
// IPv4 limited broadcast.
func isGroup(a netip.Addr) bool {
	return a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
