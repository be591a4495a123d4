// Package udpstat reads the kernel's per-socket UDP drop counts (Linux), which tests use
// to tell a datagram the kernel dropped from one a program lost.
package udpstat

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// SocketDrops returns, by socket inode, the datagrams the kernel dropped on each IPv4
// UDP socket whose local and remote ports match selects (the drops column of
// /proc/net/udp): what a full receive buffer loses before its reader can count it.
func SocketDrops(match func(local, remote int) bool) (map[string]uint64, error) {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return nil, err
	}
	port := func(addr string) int {
		_, hex, _ := strings.Cut(addr, ":")
		p, err := strconv.ParseUint(hex, 16, 16)
		if err != nil {
			return -1
		}
		return int(p)
	}
	drops := map[string]uint64{}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line) // sl local rem st queues tr retrnsmt uid timeout inode ref pointer drops
		if len(f) < 13 || !match(port(f[1]), port(f[2])) {
			continue
		}
		n, err := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/net/udp: drops %q: %w", f[len(f)-1], err)
		}
		drops[f[9]] = n
	}
	return drops, nil
}

// Drops returns the datagrams the kernel dropped on the UDP sockets bound to ports.
func Drops(ports []int) (uint64, error) {
	drops, err := SocketDrops(func(local, _ int) bool { return slices.Contains(ports, local) })
	var sum uint64
	for _, n := range drops {
		sum += n
	}
	return sum, err
}
