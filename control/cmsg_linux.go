package control

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// nextCmsg splits the first control message off b, reading its header
// with encoding/binary: unix.ParseOneSocketControlMessage converts b to a
// header pointer before it checks b's length, which the race detector's
// pointer checks refuse for a short buffer.
func nextCmsg(b []byte) (level, typ int32, data, rest []byte, ok bool) {
	if len(b) < unix.SizeofCmsghdr {
		return 0, 0, nil, nil, false
	}
	lenSize := unix.SizeofCmsghdr - 8 // cmsg_len is a size_t
	var n uint64
	if lenSize == 8 {
		n = binary.NativeEndian.Uint64(b)
	} else {
		n = uint64(binary.NativeEndian.Uint32(b))
	}
	level = int32(binary.NativeEndian.Uint32(b[lenSize:]))
	typ = int32(binary.NativeEndian.Uint32(b[lenSize+4:]))
	hdr := uint64(unix.CmsgLen(0))
	if n < hdr || n > uint64(len(b)) {
		return 0, 0, nil, nil, false
	}
	next := min(uint64(unix.CmsgSpace(int(n-hdr))), uint64(len(b)))
	return level, typ, b[hdr:n], b[next:], true
}
