package sensor

import "sync/atomic"

// Stats counts what a driver's Read did.
type Stats struct {
	Reads   uint64 // good reads
	Errors  uint64 // failed reads, each failed Read once
	Reinits uint64 // successful re-initialisations after MaxErrors failures
}

// Recovery is the fault bookkeeping every chip driver shares: it counts
// reads and errors, calls for a re-initialisation after MaxErrors failed
// reads in a row (a chip that browned out has lost its configuration), and
// flags the first good sample after one. Read-side methods are for the one
// goroutine that calls Read; Stats is safe from any.
type Recovery struct {
	MaxErrors int

	failures int
	reinited bool
	reads    atomic.Uint64
	errors   atomic.Uint64
	reinits  atomic.Uint64
}

// Due reports whether the driver must re-initialise the chip before reading.
func (r *Recovery) Due() bool { return r.failures >= r.MaxErrors }

// Force makes the next Read re-initialise, for a driver that can tell the
// chip lost its configuration.
func (r *Recovery) Force() { r.failures = max(r.failures, r.MaxErrors) }

// Reinitialised records a successful re-initialisation.
func (r *Recovery) Reinitialised() {
	r.failures = 0
	r.reinited = true
	r.reinits.Add(1)
}

// Fail records a failed read, flags s and returns err. The sample keeps
// its previous values.
func (r *Recovery) Fail(s *Sample, err error) error {
	r.failures++
	r.errors.Add(1)
	s.Status = s.Status&^StatusReinit | StatusSensorError
	return err
}

// Good records a good read and sets s's sensor bits; timing bits stay.
func (r *Recovery) Good(s *Sample, saturated bool) {
	r.failures = 0
	r.reads.Add(1)
	s.Status &^= StatusSensorError | StatusSaturated | StatusReinit
	if saturated {
		s.Status |= StatusSaturated
	}
	if r.reinited {
		s.Status |= StatusReinit
		r.reinited = false
	}
}

// Stats returns the counters.
func (r *Recovery) Stats() Stats {
	return Stats{Reads: r.reads.Load(), Errors: r.errors.Load(), Reinits: r.reinits.Load()}
}
