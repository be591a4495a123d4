// Package reportsvc is the Lars report service: it reads agents' ReportStatusRequests
// (msgid 3) over TCP and upserts each host's latest call counts into ServerCallStatus,
// batched, through a bounded queue that keeps the latest status per row.
//
// What a client can make it hold is bounded and counted: reports for keys the route
// store does not hold are dropped (Config.KnownKeysRefresh); a full queue drops the
// rows of the connection that holds too much of it, not the oldest of everyone's
// (Config.QueueSize); silent connections are closed (Config.IdleTimeout); and old
// ServerCallStatus and RouteHistory rows are deleted (Config.StatusRetention,
// Config.HistoryRetention, Config.HistoryKeepPerKey).
package reportsvc
