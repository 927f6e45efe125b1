// Package discovery is the small part of multicast DNS (RFC 6762) and
// DNS-SD (RFC 6763) imustream needs: a Responder that announces a daemon
// as an instance of _imustream._udp.local with its TXT (version, sensor,
// rate, key) and answers for its host name, and a one-shot querier
// (Browse, Resolve, Watch) that finds them and resolves NAME.local, which
// Go's resolver does not do in a static binary.
//
// The responder joins 224.0.0.251 on every up, multicast-capable
// interface with IPv4, and ff02::fb on those with IPv6; it announces and
// answers over both, with A records and, for a daemon that listens on
// IPv6 (or on the wildcard address), AAAA records. The querier is IPv4
// only: it sends from an ephemeral port (RFC 6762 §5.1, one-shot), so
// responders, avahi's included, answer it by unicast, and it needs no
// port 5353 of its own.
//
// github.com/hashicorp/mdns was the alternative: its server answers every
// query by unicast (never to the multicast group, so other hosts' caches
// and avahi-browse's passive view never see it), sends no announcement or
// goodbye, listens on one interface only, and brings github.com/miekg/dns
// into the daemon.
package discovery
