package detect

import (
	"errors"
	"sync"

	"periph.io/x/conn/v3/physic"
)

var errNACK = errors.New("remote I/O error")

// fakeBus is a bus of register-file devices with auto-increment, enough to
// stand in for the chips during probe and open. Addresses without a device
// do not ACK.
type fakeBus struct {
	mu   sync.Mutex
	devs map[uint16]*fakeDev
	txs  int
}

type fakeDev struct {
	regs [256]byte
	ptr  byte
	// before runs at the start of a transaction that reads from reg.
	before func(d *fakeDev, reg byte)
}

func newFakeBus() *fakeBus { return &fakeBus{devs: map[uint16]*fakeDev{}} }

// add puts a device at addr whose identity register idReg holds id.
func (b *fakeBus) add(addr uint16, idReg, id byte) *fakeDev {
	d := &fakeDev{}
	d.regs[idReg] = id
	b.devs[addr] = d
	return d
}

func (b *fakeBus) String() string { return "fake" }

func (b *fakeBus) Tx(addr uint16, w, r []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.txs++
	d := b.devs[addr]
	if d == nil {
		return errNACK
	}
	if len(w) > 0 {
		d.ptr = w[0]
		for _, v := range w[1:] {
			d.regs[d.ptr] = v
			d.ptr++
		}
	}
	if len(r) > 0 && d.before != nil {
		d.before(d, d.ptr)
	}
	for i := range r {
		r[i] = d.regs[d.ptr]
		d.ptr++
	}
	return nil
}

func (b *fakeBus) SetSpeed(physic.Frequency) error { return nil }

func (b *fakeBus) Close() error { return nil }

// gy91 is an MPU-9250 at 0x68 lying flat and still with a little noise,
// and a BMP280 at 0x76: the chips of a GY-91 board.
func gy91() *fakeBus {
	b := newFakeBus()
	mpu := b.add(0x68, 0x75, 0x71)
	seed := uint32(1)
	mpu.before = func(d *fakeDev, reg byte) {
		if reg != 0x3B {
			return
		}
		noise := func() int16 {
			seed = seed*1664525 + 1013904223
			return int16(seed>>28) - 8 // -8..7 LSB
		}
		// ±4 g, ±500 °/s: 8192 LSB/g, 65.5 LSB/(°/s); small biases.
		vals := []int16{
			35 + noise(), -120 + noise(), 8192 + 60 + noise(), // accel
			1168 + noise()/4,                         // temp: (24.5 - 21) × 333.87
			-21 + noise(), 14 + noise(), 5 + noise(), // gyro
		}
		for i, v := range vals {
			d.regs[0x3B+2*i] = byte(uint16(v) >> 8)
			d.regs[0x3B+2*i+1] = byte(v)
		}
	}
	b.add(0x76, 0xD0, 0x58)
	return b
}
