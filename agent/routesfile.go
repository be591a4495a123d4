package agent

import (
	"fmt"
	"os"

	"github.com/larsgo/lars/route"
)

// LoadRoutesFile reads and parses a routes file: one host of one key a line,
// "modid cmdid ip port [weight=N] [zone=NAME]", the ip IPv4 or IPv6 (route.ParseRoutes,
// whose errors wrap route.ErrBadRoutes and name path and the line).
func LoadRoutesFile(path string) (map[route.Key][]route.Host, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open routes file: %w", err)
	}
	defer f.Close()
	return route.ParseRoutes(f, path)
}
