// Package reportsvc is the Lars report service: it reads agents' ReportStatusRequests
// (msgid 3) over TCP and upserts each host's latest call counts into ServerCallStatus,
// batched, through a bounded queue that keeps the latest status per row.
package reportsvc
