// Package console is lars-console's web interface to the route store: server-rendered
// pages (html/template, embedded static files, no JavaScript framework) that list the
// services, show one service's hosts and call status with a server-side SVG chart,
// add, remove and replace hosts, show the history of route writes and edit service
// names.
//
// It reads and writes only the store, so it runs beside any number of route and report
// services, ours or Lars's: a route write is one store transaction in Lars's convention
// (RouteData, RouteChange, RouteVersion) that every lars-dns picks up and pushes, plus
// a RouteHistory row naming who wrote.
//
// Every list is shown a page at a time (Config.PageRows, ?n= up to Config.MaxPageRows,
// ?from= or, for the changes, ?before= and ?after=), read from the store a page at a
// time through indexes, with counts and next and previous links; long host lists in
// the changes, callers under a host and the replace form of a long route are cut, and
// each cut is counted by cause (WriteMetrics). Store errors are one generic line on
// the page, the error itself in the log.
//
// Every page but the login page needs a login, deny by default: an account (viewer,
// editor or admin, in the store's ConsoleAccount table, bcrypt password hashes) logs
// in to a server-side session (a random 256-bit id in an HttpOnly, SameSite=Strict
// cookie, Secure over TLS or behind a declared TLS proxy; the store keeps only its
// SHA-256) that ends when idle or old (Config.SessionIdle, Config.SessionMax), on
// logout and when the account's password or role changes. Failed logins are limited
// per client address and per account name (token buckets) and logged. Writes are POST
// forms behind net/http.CrossOriginProtection and need an editor or an admin; a
// viewer's are refused (403). Scripts may give the API token (Config.Token) as
// "Authorization: Bearer TOKEN" instead of a session. EnsureAdmin makes the first
// admin; admins manage the accounts on /accounts.
package console
