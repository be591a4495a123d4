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
// Writes are POST forms behind net/http.CrossOriginProtection; with a token configured
// (required by CheckListen off loopback) every write needs it, from the login cookie or
// a "token" form field.
package console
