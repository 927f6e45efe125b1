package lis3mdl

// Register addresses (datasheet 7).
const (
	regWhoAmI   = 0x0F
	regCtrlReg1 = 0x20 // TEMP_EN OM[1:0] DO[2:0] FAST_ODR ST
	regCtrlReg2 = 0x21 // FS[1:0] REBOOT SOFT_RST
	regCtrlReg3 = 0x22 // MD[1:0]
	regCtrlReg4 = 0x23 // OMZ[1:0] BLE
	regCtrlReg5 = 0x24 // FAST_READ BDU
	regStatus   = 0x27 // ZYXOR … ZYXDA
	autoInc     = 0x80 // sub-address MSB: auto-increment (5.1.1)
)

const whoAmI = 0x3D

// Register values.
const (
	// ctrl1UHP155Hz: X/Y ultra-high-performance (OM 11) with FAST_ODR:
	// 155 Hz (table 20).
	ctrl1UHP155Hz = 0b0110_0010
	ctrl2SoftRst  = 1 << 2
	ctrl3Cont     = 0x00 // MD 00: continuous conversion
	ctrl4UHPZ     = 0b11 << 2
	ctrl5BDU      = 1 << 6
	statusZYXDA   = 1 << 3
)

// I²C addresses.
const (
	AddrLow  uint16 = 0x1C
	AddrHigh uint16 = 0x1E
)

// burstLen is STATUS_REG through OUT_Z_H.
const burstLen = 7
