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

// ParsePrefix takes a CIDR or a single address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("%q is not a CIDR like 192.168.1.0/24 or an address", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR like 192.168.1.0/24 or an address", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
