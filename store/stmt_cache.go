package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache holds statements prepared once per DB: a large multi-row statement costs
// more to parse than to run (SQLite parses it in this process; MySQL on the server),
// so the ones written again and again are prepared and reused.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt // by name
}

// prepared returns the statement named name, preparing the query build returns on
// first use.
func (db *DB) prepared(ctx context.Context, name string, build func() string) (*sql.Stmt, error) {
	c := &db.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[name]; ok {
		return st, nil
	}
	st, err := db.db.PrepareContext(ctx, build())
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[name] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}
