package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/lb"
)

// unknownKeyFlags bound what requests for keys the agent does not hold may make it
// keep, and what it answers off loopback; set ones override the [loadbalance] keys of
// -config.
type unknownKeyFlags struct {
	maxNoRoute, rate, sources int
	noAnswerTTL               time.Duration
	remoteRoute               bool
}

func (u *unknownKeyFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&u.maxNoRoute, "max-no-route-keys", 0, "most keys created on demand that have no hosts (waiting for their first answer, or answered empty), within -max-keys: keys nobody serves cannot take the room of real ones; beyond it unknown keys are refused and counted (default [loadbalance] max_no_route_keys of -config, else half of -max-keys)")
	fs.DurationVar(&u.noAnswerTTL, "no-answer-ttl", lb.DefaultNoAnswerTTL, "a key created on demand that gets no answer from the route service for this long (the service unreachable) is dropped, counted, and pulled again at its next get; [loadbalance] no_answer_ttl")
	fs.IntVar(&u.rate, "unknown-key-rate", agent.DefaultUnknownKeyRate, "keys a second one source (address and port on loopback, address elsewhere) may make the agent create and pull with get_host/get_route of keys it does not hold, in bursts of as many; beyond it such requests are answered RET_NOEXIST without creating the key and counted (negative: no limit); [loadbalance] unknown_key_rate")
	fs.IntVar(&u.sources, "unknown-key-sources", agent.DefaultUnknownKeySources, "sources -unknown-key-rate remembers (about 40 bytes each, at most 1048576); one forgotten to make room starts again with a full burst (counted); [loadbalance] unknown_key_sources")
	fs.BoolVar(&u.remoteRoute, "allow-remote-get-route", false, "answer get_route from sources off loopback (only possible with a -listen address off loopback); without it they are dropped and counted. Even then an answer to such a source is at most 3 times the size of its request (a larger route is answered empty, counted), so that a forged source address cannot make the agent an amplifier; loopback sources are not affected; [loadbalance] allow_remote_get_route")
}

// apply writes the set flags into cfg.
func (u *unknownKeyFlags) apply(set map[string]bool, cfg *agent.Config) error {
	if set["max-no-route-keys"] {
		if u.maxNoRoute <= 0 {
			return fmt.Errorf("invalid -max-no-route-keys %d: want at least 1", u.maxNoRoute)
		}
		cfg.Table.MaxNoRouteKeys = u.maxNoRoute
	}
	if set["no-answer-ttl"] {
		if u.noAnswerTTL <= 0 {
			return fmt.Errorf("invalid -no-answer-ttl %v: want a positive duration", u.noAnswerTTL)
		}
		cfg.Table.NoAnswerTTL = u.noAnswerTTL
	}
	if set["unknown-key-rate"] {
		if u.rate == 0 {
			return fmt.Errorf("invalid -unknown-key-rate 0: want a positive rate, or negative for no limit")
		}
		cfg.UnknownKeyRate = u.rate
	}
	if set["unknown-key-sources"] {
		if u.sources <= 0 {
			return fmt.Errorf("invalid -unknown-key-sources %d: want at least 1", u.sources)
		}
		cfg.UnknownKeySources = u.sources
	}
	if set["allow-remote-get-route"] {
		cfg.AllowRemoteGetRoute = u.remoteRoute
	}
	return nil
}
