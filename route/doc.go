// Package route is the vocabulary every part of the project shares about routes: the
// key that names a service (Key), one server of it (Host: address, weight, zone), the
// text forms of both (ip:port, the routes-file line), the wire form of IPv4 addresses,
// and ordering, normalising and diffing host lists. It does no I/O and knows nothing
// of balancing, storage or sockets.
package route
