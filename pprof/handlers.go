// Package pprof mounts Go's profiling endpoints on an admin mux and captures profiles
// from a running agent (or any server that mounts them) for a span of time.
package pprof

import (
	"net/http"
	httppprof "net/http/pprof"
	"runtime"
)

// Options say which sampling profiles Register turns on.
type Options struct {
	// MutexFraction, when positive, is passed to runtime.SetMutexProfileFraction: on
	// average 1/MutexFraction contention events are sampled. Zero leaves it as it is.
	MutexFraction int
	// BlockRate, when positive, is passed to runtime.SetBlockProfileRate (nanoseconds
	// of blocking per sample). Zero leaves it as it is.
	BlockRate int
}

// DefaultOptions sample mutex and block events cheaply enough for production.
var DefaultOptions = Options{MutexFraction: 100, BlockRate: 100000}

// Register mounts the profiling endpoints under /debug/pprof/ on mux and applies opts.
func Register(mux *http.ServeMux, opts Options) {
	if opts.MutexFraction > 0 {
		runtime.SetMutexProfileFraction(opts.MutexFraction)
	}
	if opts.BlockRate > 0 {
		runtime.SetBlockProfileRate(opts.BlockRate)
	}
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", httppprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
}
