// Package ctlplane is the load generator for the Lars control plane: simulated agents
// that hold route subscriptions on a route service ("dns") while routes change in the
// store, or send status reports to a report service ("reporter"), with exact counts,
// latencies and capacity searches (see ../SCHEMA.md). Its reports, and the formats
// they are written in, are in loadgen/report/ctlreport.
package ctlplane
