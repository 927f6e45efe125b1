package mpu6050

// Register addresses, common to the MPU-6050 and MPU-6500/9250 register maps
// unless noted.
const (
	regSmplrtDiv    = 0x19
	regConfig       = 0x1A
	regGyroConfig   = 0x1B
	regAccelConfig  = 0x1C
	regAccelConfig2 = 0x1D // MPU-6500/9250 only: accelerometer DLPF.
	regAccelXOutH   = 0x3B // First of 14: ACCEL_XYZ, TEMP, GYRO_XYZ, big-endian.
	regFIFOEn       = 0x23
	regIntStatus    = 0x3A
	regUserCtrl     = 0x6A
	regFIFOCountH   = 0x72 // FIFO_COUNTH, FIFO_COUNTL: bytes queued, 13 bits.
	regFIFORW       = 0x74 // Reading it pops the FIFO.
	regPwrMgmt1     = 0x6B
	regPwrMgmt2     = 0x6C
	regWhoAmI       = 0x75
)

// PWR_MGMT_1 bits.
const (
	pwrDeviceReset = 1 << 7
	pwrSleep       = 1 << 6
	// pwrClkSel1 selects the X-gyro PLL on the MPU-6050 and "best available"
	// (the PLL once it is up) on the MPU-6500/9250: both are more stable
	// than the internal 8 MHz oscillator the chip starts on.
	pwrClkSel1 = 0x01
)

// PWR_MGMT_2 = 0 keeps every accelerometer and gyroscope axis on.
const pwrAllAxesOn = 0x00

// The full-scale fields FS_SEL (GYRO_CONFIG) and AFS_SEL (ACCEL_CONFIG) are
// bits 4:3. In GYRO_CONFIG of the MPU-6500/9250, bits 1:0 are FCHOICE_B,
// left at 0 so the DLPF is used.
const fsShift = 3

// WHO_AM_I values.
const (
	whoAmIMPU6050 = 0x68 // Also the MPU-6000 and MPU-9150.
	whoAmIMPU6500 = 0x70
	whoAmIMPU9250 = 0x71
	whoAmIMPU9255 = 0x73
)

// I²C addresses.
const (
	AddrAD0Low  uint16 = 0x68
	AddrAD0High uint16 = 0x69
)

// burstLen is ACCEL_XOUT_H through GYRO_ZOUT_L.
const burstLen = 14

// FIFO settings (MPU-6500/MPU-9250 register maps 4.7, 4.8, 4.20, 4.33,
// 4.39–4.41).
const (
	// fifoEnAll queues TEMP, gyro X/Y/Z and accel in the order of the
	// sensor registers, so a frame is the 14-byte burst's layout.
	fifoEnAll   = 0xF8
	fifoFrame   = burstLen
	userFIFOEn  = 1 << 6 // USER_CTRL FIFO_EN
	userFIFORst = 1 << 2 // USER_CTRL FIFO_RST, self-clearing
	// configFIFOMode in CONFIG stops writing a full FIFO instead of
	// overwriting its oldest bytes, which keeps the frames aligned.
	configFIFOMode = 1 << 6
	intFIFOOflow   = 1 << 4 // INT_STATUS FIFO_OFLOW_INT, cleared by the read
	// fifoSize is the MPU-6500/9250's FIFO in bytes: 36 whole frames,
	// 36 ms at 1 kHz.
	fifoSize = 512
)
