// Package upstream holds the agent's two TCP clients: the link to the Lars route
// service (pulls and pushed routes) and the link to the Lars report service.
package upstream
