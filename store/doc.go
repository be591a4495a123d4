// Package store reads and writes Lars's route database (RouteData, RouteVersion,
// RouteChange and the other lars_dns tables) on SQLite or MySQL/MariaDB through one
// database/sql code path.
//
// Every write is one transaction in Lars's convention: it changes RouteData, inserts one
// RouteChange row per key whose host set changed, and sets RouteVersion.version (row id 1)
// to max(now in Unix seconds, current+1), so the version never moves backwards and two
// writes within one second still differ. Readers poll Stamp and follow ChangesAfter.
package store
