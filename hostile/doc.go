// Package hostile holds the hostile-client suite (`make hostile`): each probe drives a
// real binary of the project the way a careless or malicious client could (floods of
// unknown keys, silent connections, forged reports, huge lists), on loopback and
// bounded in time, and asserts that what the service holds stays bounded, that it keeps
// serving real agents, and that a counter names the cause. The tests skip unless
// LARS_HOSTILE=1.
package hostile
