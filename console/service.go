package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// serviceBody is one service's page data.
type serviceBody struct {
	Key              route.Key
	ModName, CmdName string
	Hosts            []hostStatus // the page's hosts
	Pager            pager
	InRoute          int
	HasStatus        bool
	History          []store.HistoryEntry // the newest few writes of the key
	Now              time.Time
	// Form holds what the user typed into a form that failed, to show it again.
	Form struct{ IP, Port, Weight, Zone, List string }
	// List is the current host list, one per line, for the replace form; empty when
	// the route has more than maxFormHosts hosts (ListTooLong).
	List        string
	ListTooLong bool
}

// serviceHistoryRows is how many history rows the service page shows.
const serviceHistoryRows = 10

// historyCellHosts is how many hosts a history table cell lists; the rest are counted.
const historyCellHosts = 10

// maxFormHosts is the longest route whose hosts the replace form is filled with: a
// longer list would make the page megabytes.
const maxFormHosts = 500

// maxCallersShown is how many callers (newest first) the page lists under one host;
// the rest are counted.
const maxCallersShown = 10

// servicePage shows one key: its hosts with their status, the chart, the forms.
func (s *Server) servicePage(w http.ResponseWriter, r *http.Request) {
	k, err := parseKey(r.PathValue("modid"), r.PathValue("cmdid"))
	if err == nil {
		_, _, err = s.hostsPage(r)
	}
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	s.renderService(w, r, http.StatusOK, k, "", nil)
}

// renderService renders the page of k with status and errMsg; form, if not nil,
// refills the forms with what the user typed.
func (s *Server) renderService(w http.ResponseWriter, r *http.Request, status int, k route.Key, errMsg string, form func(*serviceBody)) {
	body, err := s.serviceBody(r, k, true)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if form != nil {
		form(body)
	}
	p := page{Title: "Service " + keyText(k), Nav: "services", Error: errMsg, Body: body}
	if errMsg == "" {
		p.Flash = flash(r)
	}
	s.render(w, r, status, "service", p)
}

// hostsPage returns the offset and size of the page of hosts r asks for.
func (s *Server) hostsPage(r *http.Request) (offset, size int, err error) {
	q := r.URL.Query()
	if size, err = s.pageSize(q); err != nil {
		return 0, 0, err
	}
	offset, err = pageStart(q, "from")
	return offset, size, err
}

// serviceBody reads the data of k's page: the hosts of the page r asks for (every host
// and status row of k is read, through the key's index, to order them), the newest
// changes with their host lists cut; count counts the cuts (the page does, its chart
// does not).
func (s *Server) serviceBody(r *http.Request, k route.Key, count bool) (*serviceBody, error) {
	ctx := r.Context()
	offset, size, err := s.hostsPage(r)
	if err != nil || r.Method != http.MethodGet { // after a write, the first page
		offset, size = 0, s.pageRows
	}
	keys := []route.Key{k}
	routes, err := s.db.Routes(ctx, keys)
	if err != nil {
		return nil, err
	}
	statuses, err := s.db.CallStatusOf(ctx, keys)
	if err != nil {
		return nil, err
	}
	names, err := s.db.ServiceNamesOf(ctx, keys)
	if err != nil {
		return nil, err
	}
	history, err := s.db.History(ctx, store.HistoryFilter{Modid: &k.Modid, Cmdid: &k.Cmdid, Limit: serviceHistoryRows, MaxHosts: historyCellHosts})
	if err != nil {
		return nil, err
	}
	leases, err := s.db.LeasesOf(ctx, keys)
	if err != nil {
		return nil, err
	}
	all := hostStatuses(routes[k], statuses)
	shown := all[min(offset, len(all)):min(offset+size, len(all))]
	for i := range shown {
		if l, ok := leases[store.LeaseKey{Key: k, Host: route.HostAt(shown[i].Host.Addr)}]; ok && shown[i].InRoute {
			shown[i].Lease = &l
		}
	}
	callersCut := 0
	for i := range shown {
		if shown[i].limitCallers(maxCallersShown) {
			callersCut++
		}
	}
	if count {
		s.metrics.cut[cutCallers].Add(callersCut)
		s.metrics.cutIf(len(shown) < len(all), cutHosts)
		s.metrics.cutIf(len(routes[k]) > maxFormHosts, cutReplaceForm)
		s.countHistoryCut(history)
	}
	b := &serviceBody{Key: k, ModName: names.Mod[k.Modid], CmdName: names.Cmd[k.Cmdid],
		Hosts: shown, InRoute: len(routes[k]), HasStatus: len(statuses) > 0,
		History: history, Now: s.now()}
	b.Pager = offsetPager("hosts", serviceURL(k), url.Values{"n": r.URL.Query()["n"]}, "from", offset, len(shown), size, len(all))
	if b.ListTooLong = len(routes[k]) > maxFormHosts; !b.ListTooLong {
		for _, h := range routes[k] {
			b.List += h.String() + "\n"
		}
	}
	return b, nil
}

// serviceChart serves the SVG chart of k's successes and errors per host.
func (s *Server) serviceChart(w http.ResponseWriter, r *http.Request) {
	k, err := parseKey(r.PathValue("modid"), r.PathValue("cmdid"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, err := s.serviceBody(r, k, false)
	if err != nil {
		s.log.Error("route store error", "path", r.URL.Path, "err", err)
		http.Error(w, "the route store failed", http.StatusServiceUnavailable)
		return
	}
	svg, err := hostChart(body.Hosts)
	if err != nil {
		s.log.Error("cannot draw a chart", "key", keyText(k), "err", err)
		http.Error(w, "the chart cannot be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(svg)
}
