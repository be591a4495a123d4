package daemon

// connReserve is the file descriptors kept, out of the process's limit, for all but the
// agents' connections: the store's pool, the admin endpoint, logs, listeners.
const connReserve = 256

// connsAllowed is how many agent connections a process whose open-file limit is limit
// can hold beside connReserve other descriptors (half the limit when it is small), at
// most ceiling.
func connsAllowed(limit uint64, ceiling int) int {
	n := limit / 2
	if limit > 2*connReserve {
		n = limit - connReserve
	}
	if n < 1 {
		n = 1
	}
	if n > uint64(ceiling) {
		return ceiling
	}
	return int(n)
}
