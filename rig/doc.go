// Package rig is the binary front-end for control computers that cannot
// speak the text protocol: Simulink Real-Time, LabVIEW, dSPACE or a custom
// C program that sends a fixed struct every second and expects one fixed
// struct per sample back.
//
// It has three parts, in the layers of package control: the Command (which
// field of the rig's packet says start or stop, and how a packet must look
// to count), the Layout (the sample struct the rig reads: an ordered list
// of packed fields, encoded without allocation, and described for the
// other side as a C struct, Simulink block settings, a LabVIEW cluster or
// JSON), and the Server (the goroutine that reads the rig's packets and
// drives a control.Stream, level-triggered: start packets keep a lease
// fresh, a stop packet or silence ends it).
//
// A rig cannot sign, so the front-end is off unless configured, and it
// takes packets only from the allow list, of the exact length, with the
// match bytes (docs/rig.md).
package rig
