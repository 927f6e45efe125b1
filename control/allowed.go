package control

import "net/netip"

// Allowed reports whether the allow list in force admits a, as a sender
// or a target: for another front-end (package rig) that shares it.
func (s *Server) Allowed(a netip.Addr) bool { return s.allowed(a) }
