package ak8963

// Register addresses (datasheet 8.1).
const (
	regWIA   = 0x00 // device ID
	regST1   = 0x02 // first of the 8-byte burst: ST1, HXL..HZH, ST2
	regCNTL1 = 0x0A
	regCNTL2 = 0x0B
	regASAX  = 0x10 // first of ASAX, ASAY, ASAZ (fuse ROM)
)

// Bits.
const (
	wia      = 0x48 // WIA value
	st1DRDY  = 1 << 0
	st2HOFL  = 1 << 3 // magnetic sensor overflow
	cntl2RST = 1 << 0 // soft reset

	modePowerDown   = 0x00
	modeFuseROM     = 0x0F
	modeContinuous2 = 0x06 // 100 Hz
	cntl1Bit16      = 1 << 4
)

// burstLen is ST1, six data bytes, ST2.
const burstLen = 8

// Addr is the AK8963's I²C address (CAD1, CAD0 low, as in the MPU-9250).
const Addr uint16 = 0x0C

// MPU-9250 registers the bypass needs.
const (
	mpuIntPinCfg = 0x37
	mpuUserCtrl  = 0x6A
	bypassEn     = 1 << 1 // INT_PIN_CFG BYPASS_EN
)

// lsbUT is the 16-bit output's sensitivity, µT per LSB (datasheet 6.3:
// 0.15 µT/LSB typical in 16-bit output).
const lsbUT = 0.15
