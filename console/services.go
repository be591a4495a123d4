package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// serviceRow is one line of the services page.
type serviceRow struct {
	Key              route.Key
	ModName, CmdName string
	Hosts            int
	Overloaded       int // hosts of the route some caller's latest status says overloaded
	Succ, Err        uint64
	ErrorRate        float64
	LastChange       time.Time // zero if RouteHistory has no row for the key
	LastStatus       time.Time // zero without call status
}

// servicesBody is the services page's data.
type servicesBody struct {
	Rows   []serviceRow
	Modid  string // the filter as given
	Sort   string
	Desc   bool
	Sorts  []sortColumn
	Now    time.Time
	Pager  pager
	Totals struct {
		Services, Hosts int // of every service (with the filter)
		Overloaded      int // of the services shown
	}
}

// sortColumn is a column header that sorts the page.
type sortColumn struct {
	Name, Label string
	URL         string // the page sorted by this column (the other way if it is the current one)
	Current     bool
}

// sortLabels are the sortable columns in page order, each named as its store order.
var sortLabels = [][2]string{{"key", "Service"}, {"name", "Name"}, {"hosts", "Hosts"},
	{"overloaded", "Overloaded"}, {"errors", "Error rate"}, {"changed", "Last change"}}

// servicesPage lists a page of the keys of the route store and of the call status, in
// the order asked for.
func (s *Server) servicesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	body := servicesBody{Modid: strings.TrimSpace(q.Get("modid")), Sort: q.Get("sort"), Desc: q.Get("order") == "desc", Now: s.now()}
	if body.Sort == "" {
		body.Sort = "key"
	}
	bad := func(msg string) {
		s.render(w, r, http.StatusBadRequest, "services", page{Title: "Services", Nav: "services", Error: msg, Body: body})
	}
	if !slices.ContainsFunc(sortLabels, func(c [2]string) bool { return c[0] == body.Sort }) {
		s.errorPage(w, r, http.StatusBadRequest, "Unknown sort order "+body.Sort+": sort by key, name, hosts, overloaded, errors or changed.")
		return
	}
	sq := store.ServiceQuery{Order: store.ServiceOrder(body.Sort), Desc: body.Desc}
	if body.Modid != "" {
		id, err := parseID("modid", body.Modid)
		if err != nil {
			bad(err.Error())
			return
		}
		sq.Modid = &id
	}
	var err error
	if sq.Limit, err = s.pageSize(q); err == nil {
		sq.Offset, err = pageStart(q, "from")
	}
	if err != nil {
		bad(err.Error())
		return
	}
	keys, total, err := s.db.ServiceKeys(r.Context(), sq)
	if err == nil {
		body.Totals.Hosts, err = s.db.HostRows(r.Context(), sq.Modid)
	}
	if err == nil {
		body.Rows, err = s.serviceRows(r, keys)
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	body.Totals.Services = total
	for _, row := range body.Rows {
		body.Totals.Overloaded += row.Overloaded
	}
	body.Pager = offsetPager("services", "/", q, "from", sq.Offset, len(body.Rows), sq.Limit, total)
	s.metrics.cutIf(len(body.Rows) < total, cutServices)
	for _, c := range sortLabels {
		v := url.Values{"sort": {c[0]}}
		if body.Modid != "" {
			v.Set("modid", body.Modid)
		}
		if n := q.Get("n"); n != "" {
			v.Set("n", n)
		}
		current := c[0] == body.Sort
		if current && !body.Desc {
			v.Set("order", "desc")
		}
		body.Sorts = append(body.Sorts, sortColumn{Name: c[0], Label: c[1], URL: "/?" + v.Encode(), Current: current})
	}
	s.render(w, r, http.StatusOK, "services", page{Title: "Services", Nav: "services", Flash: flash(r), Body: body})
}

// serviceRows reads the rows of the services page for keys, in their order: only
// what these keys have, each read through an index.
func (s *Server) serviceRows(r *http.Request, keys []route.Key) ([]serviceRow, error) {
	ctx := r.Context()
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
	last, err := s.db.LastChangesOf(ctx, keys)
	if err != nil {
		return nil, err
	}
	byKey := make(map[route.Key][]store.CallStatus)
	for _, st := range statuses {
		byKey[st.Key] = append(byKey[st.Key], st)
	}
	rows := make([]serviceRow, 0, len(keys))
	for _, k := range keys {
		row := serviceRow{Key: k, ModName: names.Mod[k.Modid], CmdName: names.Cmd[k.Cmdid], Hosts: len(routes[k]), LastChange: last[k]}
		for _, hs := range hostStatuses(routes[k], byKey[k]) {
			if hs.InRoute && hs.Overload {
				row.Overloaded++
			}
			row.Succ += hs.Succ
			row.Err += hs.Err
			if hs.Newest.After(row.LastStatus) {
				row.LastStatus = hs.Newest
			}
		}
		row.ErrorRate = rate(row.Succ, row.Err)
		rows = append(rows, row)
	}
	return rows, nil
}
