package icm20948

// REG_BANK_SEL, in every bank; the bank is in bits 5:4.
const regBankSel = 0x7F

// Bank 0 (datasheet 8).
const (
	regWhoAmI      = 0x00
	regUserCtrl    = 0x03 // DMP_EN FIFO_EN I2C_MST_EN …
	regPwrMgmt1    = 0x06
	regPwrMgmt2    = 0x07
	regIntStatus2  = 0x1B // FIFO_OVERFLOW_INT[4:0]
	regAccelXOutH  = 0x2D // accel, gyro, temp, then EXT_SLV_SENS_DATA
	regExtSensData = 0x3B
	regFIFOEn2     = 0x67
	regFIFORst     = 0x68
	regFIFOMode    = 0x69
	regFIFOCountH  = 0x70
	regFIFORW      = 0x72
)

// Bank 2 (datasheet 10).
const (
	regGyroSmplrtDiv   = 0x00
	regGyroConfig1     = 0x01 // GYRO_DLPFCFG[5:3] GYRO_FS_SEL[2:1] GYRO_FCHOICE
	regODRAlignEn      = 0x09
	regAccelSmplrtDiv1 = 0x10
	regAccelSmplrtDiv2 = 0x11
	regAccelConfig     = 0x14 // ACCEL_DLPFCFG[5:3] ACCEL_FS_SEL[2:1] ACCEL_FCHOICE
)

// Bank 3 (datasheet 11): the I²C master and its slaves 0 (periodic read)
// and 4 (single transactions).
const (
	regI2CMstCtrl = 0x01
	regSlv0Addr   = 0x03
	regSlv0Reg    = 0x04
	regSlv0Ctrl   = 0x05
	regSlv4Addr   = 0x13
	regSlv4Reg    = 0x14
	regSlv4Ctrl   = 0x15
	regSlv4DO     = 0x16
	regSlv4DI     = 0x17
)

// Values.
const (
	whoAmI          = 0xEA
	pwrDeviceReset  = 1 << 7
	pwrSleep        = 1 << 6
	pwrClkAuto      = 0x01
	userFIFOEn      = 1 << 6
	userI2CMstEn    = 1 << 5
	mstClk345kHz    = 0x07 // I2C_MST_CLK 7: 345.6 kHz, the datasheet's recommendation
	slvEn           = 1 << 7
	slvRead         = 1 << 7 // in I2C_SLVx_ADDR
	fifoEnAccGyrTmp = 0x1F   // ACCEL, GYRO_Z/Y/X, TEMP
	fifoModeSnap    = 0x01   // FIFO 0 in snapshot mode: stop when full
	fifoRstAll      = 0x1F
	fifoOverflow    = 0x1F // INT_STATUS_2 FIFO_OVERFLOW_INT
)

// AK09916 (ICM-20948 datasheet 16).
const (
	akAddr     = 0x0C
	akWIA2     = 0x01
	akWhoAmI   = 0x09
	akST1      = 0x10 // ST1, HXL … HZH, TMPS, ST2: 9 bytes
	akCNTL2    = 0x31
	akCont100  = 0x08 // continuous measurement mode 4: 100 Hz
	akST1DRDY  = 1 << 0
	akST2HOFL  = 1 << 3
	akReadLen  = 9
	akUTPerLSB = 0.15
)

// I²C addresses.
const (
	AddrAD0Low  uint16 = 0x68
	AddrAD0High uint16 = 0x69
)

const (
	imuLen   = 14
	burstLen = imuLen + akReadLen
	frameLen = imuLen
	// maxFrames per FIFO burst: 504 bytes, 32 ms at 1125 Hz.
	maxFrames = 36
	// baseRateHz is the rate before SMPLRT_DIV with the filters on.
	baseRateHz = 1125
)
