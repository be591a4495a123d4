package batchio

import (
	"encoding/binary"
	"net/netip"
)

// sockaddrSize is the size of a sockaddr_in6, the largest address a UDP socket reports;
// a sockaddr_in (16 bytes) fits in its first bytes.
const sockaddrSize = 28

// Address families in Linux numbering. On Linux the kernel reads and writes SockAddr
// bytes directly; elsewhere the bytes are only this package's own encoding, so the
// Linux values serve everywhere.
const (
	famInet4 = 2
	famInet6 = 10
)

// SockAddr is a peer address held as raw sockaddr_in or sockaddr_in6 bytes, the form in
// which recvmmsg reports it and sendmmsg takes it. It is a plain value: assigning one
// SockAddr to another copies the address without conversion or allocation, which is how
// a server replies to the source of a datagram. The zero value holds no address.
type SockAddr struct {
	raw [sockaddrSize]byte
	len uint32 // bytes of raw in use; 0 means no address
}

// IsValid reports whether a holds an IPv4 or IPv6 address.
func (a *SockAddr) IsValid() bool {
	switch a.family() {
	case famInet4:
		return a.len >= 16
	case famInet6:
		return a.len >= sockaddrSize
	}
	return false
}

// Clear makes a hold no address.
func (a *SockAddr) Clear() { a.len = 0 }

func (a *SockAddr) family() uint16 {
	if a.len < 2 {
		return 0
	}
	return binary.NativeEndian.Uint16(a.raw[0:2])
}

// AddrPort returns the address as a netip.AddrPort without allocating, or the zero
// AddrPort if a holds no IPv4 or IPv6 address. An IPv4 peer of a dual-stack IPv6
// socket comes out IPv4-mapped (use Addr().Unmap()). An IPv6 scope (zone) is not
// reported; it survives copying the SockAddr itself.
func (a *SockAddr) AddrPort() netip.AddrPort {
	if !a.IsValid() {
		return netip.AddrPort{}
	}
	port := binary.BigEndian.Uint16(a.raw[2:4])
	if a.family() == famInet4 {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(a.raw[4:8])), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom16([16]byte(a.raw[8:24])), port)
}

// SetAddrPort stores ap without allocating; an invalid ap clears a. IPv4 and
// IPv4-mapped IPv6 addresses are stored as sockaddr_in, which Linux accepts on both
// IPv4 and dual-stack IPv6 sockets; other addresses as sockaddr_in6. A zone is dropped
// (scope id 0).
func (a *SockAddr) SetAddrPort(ap netip.AddrPort) {
	ip := ap.Addr().Unmap()
	if !ip.IsValid() {
		a.len = 0
		return
	}
	a.raw = [sockaddrSize]byte{}
	binary.BigEndian.PutUint16(a.raw[2:4], ap.Port())
	if ip.Is4() {
		binary.NativeEndian.PutUint16(a.raw[0:2], famInet4)
		b := ip.As4()
		copy(a.raw[4:8], b[:])
		a.len = 16
		return
	}
	binary.NativeEndian.PutUint16(a.raw[0:2], famInet6)
	b := ip.As16()
	copy(a.raw[8:24], b[:])
	a.len = sockaddrSize
}
