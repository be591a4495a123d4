package console

import (
	"net/http"
	"time"

	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/store"
)

// serviceBody is one service's page data.
type serviceBody struct {
	Key              lb.Key
	ModName, CmdName string
	Hosts            []hostStatus
	InRoute          int
	HasStatus        bool
	History          []store.HistoryEntry // the newest few writes of the key
	Now              time.Time
	// Form holds what the user typed into a form that failed, to show it again.
	Form struct{ IP, Port, List string }
	// List is the current host list, one per line, for the replace form.
	List string
}

// serviceHistoryRows is how many history rows the service page shows.
const serviceHistoryRows = 10

// servicePage shows one key: its hosts with their status, the chart, the forms.
func (s *Server) servicePage(w http.ResponseWriter, r *http.Request) {
	k, err := parseKey(r.PathValue("modid"), r.PathValue("cmdid"))
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	s.renderService(w, r, http.StatusOK, k, "", nil)
}

// renderService renders the page of k with status and errMsg; form, if not nil,
// refills the forms with what the user typed.
func (s *Server) renderService(w http.ResponseWriter, r *http.Request, status int, k lb.Key, errMsg string, form func(*serviceBody)) {
	body, err := s.serviceBody(r, k)
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

// serviceBody reads the data of k's page.
func (s *Server) serviceBody(r *http.Request, k lb.Key) (*serviceBody, error) {
	ctx := r.Context()
	routes, err := s.db.Routes(ctx, []lb.Key{k})
	if err != nil {
		return nil, err
	}
	statuses, err := s.db.CallStatus(ctx, store.CallStatusFilter{Modid: &k.Modid, Cmdid: &k.Cmdid})
	if err != nil {
		return nil, err
	}
	names, err := s.db.ServiceNames(ctx)
	if err != nil {
		return nil, err
	}
	history, err := s.db.History(ctx, store.HistoryFilter{Modid: &k.Modid, Cmdid: &k.Cmdid, Limit: serviceHistoryRows})
	if err != nil {
		return nil, err
	}
	b := &serviceBody{Key: k, ModName: names.Mod[k.Modid], CmdName: names.Cmd[k.Cmdid],
		Hosts: hostStatuses(routes[k], statuses), InRoute: len(routes[k]), HasStatus: len(statuses) > 0,
		History: history, Now: s.now()}
	for _, h := range routes[k] {
		b.List += store.FormatHost(h) + "\n"
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
	body, err := s.serviceBody(r, k)
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
