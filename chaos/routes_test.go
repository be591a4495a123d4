package chaos

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/larsgo/lars/internal/proctest"
)

// routeKey is a (modid, cmdid) pair.
type routeKey struct{ modid, cmdid int32 }

// storeRoutes returns the store's hosts ("ip:port", sorted) by key, read by larsctl.
func (s *system) storeRoutes() map[routeKey][]string {
	s.t.Helper()
	var list []struct {
		Modid, Cmdid int32
		Hosts        []struct {
			IP   string
			Port int32
		}
	}
	out := s.larsctl("route", "list", "-json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		s.t.Fatalf("larsctl route list -json: %v: %.200s", err, out)
	}
	routes := make(map[routeKey][]string, len(list))
	for _, r := range list {
		hosts := make([]string, len(r.Hosts))
		for i, h := range r.Hosts {
			hosts[i] = fmt.Sprintf("%s:%d", h.IP, h.Port)
		}
		slices.Sort(hosts)
		routes[routeKey{r.Modid, r.Cmdid}] = hosts
	}
	return routes
}

// agentHostSets returns the agent's hosts ("ip:port", sorted) by key, from /routes.
func (s *system) agentHostSets() (map[routeKey][]string, error) {
	routes, err := s.agentRoutes()
	if err != nil {
		return nil, err
	}
	sets := make(map[routeKey][]string, len(routes))
	for _, r := range routes {
		hosts := make([]string, len(r.Hosts))
		for i, h := range r.Hosts {
			hosts[i] = h.Addr
		}
		slices.Sort(hosts)
		sets[routeKey{r.Modid, r.Cmdid}] = hosts
	}
	return sets, nil
}

// routeDifferences lists the keys keep selects whose hosts differ between the agent and
// the store, a key missing on one side counting as no hosts; it returns how many keys
// were compared.
func routeDifferences(agent, store map[routeKey][]string, keep func(modid, cmdid int32) bool) (compared int, diffs []string) {
	keys := map[routeKey]bool{}
	for k := range agent {
		keys[k] = true
	}
	for k := range store {
		keys[k] = true
	}
	for k := range keys {
		if !keep(k.modid, k.cmdid) {
			continue
		}
		compared++
		if !slices.Equal(agent[k], store[k]) {
			diffs = append(diffs, fmt.Sprintf("%d/%d: agent [%s], store [%s]", k.modid, k.cmdid,
				strings.Join(agent[k], " "), strings.Join(store[k], " ")))
		}
	}
	slices.Sort(diffs)
	return compared, diffs
}

// checkRoutesMatchStore waits (eventLimit at most) until the agent holds exactly the store's
// hosts for every key keep selects, failing the test otherwise; it returns how many
// keys were compared.
func (s *system) checkRoutesMatchStore(keep func(modid, cmdid int32) bool) int {
	s.t.Helper()
	store := s.storeRoutes()
	var compared int
	proctest.Eventually(s.t, eventLimit, "the agent's routes equal the store's", func() (bool, string) {
		agent, err := s.agentHostSets()
		if err != nil {
			return false, err.Error()
		}
		var diffs []string
		compared, diffs = routeDifferences(agent, store, keep)
		return len(diffs) == 0, fmt.Sprintf("%d of %d keys differ: %v", len(diffs), compared, firstFew(diffs))
	})
	return compared
}
