package store

import (
	"github.com/larsgo/lars/route"
)

// CallStatus is one ServerCallStatus row: the latest call counts one agent (Caller)
// reported for one host of one key, as the report service stores them.
type CallStatus struct {
	Key    route.Key
	Host   route.Host // IP as the wire's int32 (stored as its unsigned number)
	Caller int32      // IPv4 of the reporting agent's host, wire form (stored unsigned)
	Succ   uint32     // successful calls in the agent's last window (succ_cnt)
	Err    uint32     // failed calls in that window (err_cnt)
	// TS is the agent's report time in Unix seconds (ts).
	TS int64
	// Overload is whether the agent saw the host overloaded (overload, Lars's char(1):
	// "1" or "0").
	Overload bool
}

// Overload values as Lars stores them in ServerCallStatus.overload.
const (
	overloadYes = "1"
	overloadNo  = "0"
)

// overloadText is the char(1) Lars stores for b.
func overloadText(b bool) string {
	if b {
		return overloadYes
	}
	return overloadNo
}
