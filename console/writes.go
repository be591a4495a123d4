package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// withWho returns r's context naming id's account, the console and its client as the
// writer: "alice (lars-console 10.0.0.5)", and the client's certificate when it
// presented one (mutual TLS): "alice (lars-console 10.0.0.5, client/ops-laptop)".
func withWho(r *http.Request, id identity) context.Context {
	return store.WithWho(r.Context(), id.name+" (lars-console "+clientText(r)+")")
}

// clientText names r's client for logs and RouteHistory: its address, and the
// identity of its verified certificate when it presented one.
func clientText(r *http.Request) string {
	if r.TLS != nil {
		if p, ok := tlsconf.IdentityOf(*r.TLS); ok {
			return remoteIP(r) + ", " + p.String()
		}
	}
	return remoteIP(r)
}

// serviceURL is the path of k's page.
func serviceURL(k route.Key) string { return fmt.Sprintf("/service/%d/%d", k.Modid, k.Cmdid) }

// keyText is "modid/cmdid".
func keyText(k route.Key) string { return fmt.Sprintf("%d/%d", k.Modid, k.Cmdid) }

// writeFailed answers a write that failed: an input error on k's page (or the error
// page when the key itself is bad), a store error on the error page.
func (s *Server) writeFailed(w http.ResponseWriter, r *http.Request, k *route.Key, err error, form func(*serviceBody)) {
	var ie inputError
	switch {
	case !errors.As(err, &ie):
		s.storeError(w, r, err)
	case k == nil:
		s.errorPage(w, r, http.StatusBadRequest, ie.msg)
	default:
		s.renderService(w, r, http.StatusBadRequest, *k, ie.msg, form)
	}
}

// addHost adds a host to a key (creating the key if it has none), with the weight
// and zone the form gives (none when empty). A host at an address the key already has
// gets the form's weight and zone: the redirect says it was set, and from what.
func (s *Server) addHost(w http.ResponseWriter, r *http.Request) {
	k, err := parseKey(r.PostFormValue("modid"), r.PostFormValue("cmdid"))
	if err != nil {
		s.writeFailed(w, r, nil, err, nil)
		return
	}
	refill := func(b *serviceBody) {
		b.Form.IP, b.Form.Port = r.PostFormValue("ip"), r.PostFormValue("port")
		b.Form.Weight, b.Form.Zone = r.PostFormValue("weight"), r.PostFormValue("zone")
	}
	h, err := parseHostForm(r.PostFormValue("ip"), r.PostFormValue("port"), r.PostFormValue("weight"), r.PostFormValue("zone"))
	if err != nil {
		s.writeFailed(w, r, &k, err, refill)
		return
	}
	// The host the address has now, for the message only: the write itself decides.
	routes, err := s.db.Routes(r.Context(), []route.Key{k})
	if err != nil {
		s.writeFailed(w, r, &k, err, refill)
		return
	}
	i := slices.IndexFunc(routes[k], func(x route.Host) bool { return x.Addr == h.Addr })
	changed, err := s.db.AddHost(r.Context(), k, h)
	if err != nil {
		s.writeFailed(w, r, &k, err, refill)
		return
	}
	if !changed {
		s.writeFailed(w, r, &k, inputErrorf("Service %s already has host %s.", keyText(k), h.String()), refill)
		return
	}
	done := url.Values{"done": {"added"}, "host": {h.String()}}
	if i >= 0 && routes[k][i] != h {
		done = url.Values{"done": {"changed"}, "host": {h.String()}, "was": {routes[k][i].String()}}
	}
	redirect(w, r, serviceURL(k), done)
}

// removeHost removes a host from a key that has it.
func (s *Server) removeHost(w http.ResponseWriter, r *http.Request) {
	k, err := parseKey(r.PostFormValue("modid"), r.PostFormValue("cmdid"))
	if err != nil {
		s.writeFailed(w, r, nil, err, nil)
		return
	}
	h, err := parseHostPort(r.PostFormValue("host"))
	if err != nil {
		s.writeFailed(w, r, &k, err, nil)
		return
	}
	if err := s.checkKnown(r, k); err != nil {
		s.writeFailed(w, r, nil, err, nil)
		return
	}
	changed, err := s.db.DelHost(r.Context(), k, h)
	if err != nil {
		s.writeFailed(w, r, &k, err, nil)
		return
	}
	if !changed {
		s.writeFailed(w, r, &k, inputErrorf("Service %s has no host %s (someone may have removed it already).", keyText(k), h.String()), nil)
		return
	}
	redirect(w, r, serviceURL(k), url.Values{"done": {"removed"}, "host": {h.String()}})
}

// setHosts replaces the hosts of a key that has some.
func (s *Server) setHosts(w http.ResponseWriter, r *http.Request) {
	k, err := parseKey(r.PostFormValue("modid"), r.PostFormValue("cmdid"))
	if err != nil {
		s.writeFailed(w, r, nil, err, nil)
		return
	}
	refill := func(b *serviceBody) { b.Form.List = r.PostFormValue("hosts") }
	hosts, err := parseHostList(r.PostFormValue("hosts"))
	if err != nil {
		s.writeFailed(w, r, &k, err, refill)
		return
	}
	if err := s.checkKnown(r, k); err != nil {
		s.writeFailed(w, r, nil, err, nil)
		return
	}
	changed, err := s.db.SetHosts(r.Context(), k, hosts)
	if err != nil {
		s.writeFailed(w, r, &k, err, refill)
		return
	}
	done := url.Values{"done": {"set"}, "n": {fmt.Sprint(len(hosts))}}
	if !changed {
		done = url.Values{"done": {"same"}}
	}
	redirect(w, r, serviceURL(k), done)
}

// checkKnown returns an input error unless k has hosts in the store.
func (s *Server) checkKnown(r *http.Request, k route.Key) error {
	routes, err := s.db.Routes(r.Context(), []route.Key{k})
	if err != nil {
		return err
	}
	if len(routes[k]) == 0 {
		return inputErrorf("Unknown service %s: it has no hosts. Add a host to create it.", keyText(k))
	}
	return nil
}

// setName sets or clears the name of a modid or cmdid.
func (s *Server) setName(w http.ResponseWriter, r *http.Request) {
	kind := r.PostFormValue("kind")
	if !slices.Contains([]string{"modid", "cmdid"}, kind) {
		s.renderNames(w, r, http.StatusBadRequest, "Choose whether the name is a modid's or a cmdid's.")
		return
	}
	id, err := parseID(kind, r.PostFormValue("id"))
	if err == nil {
		err = store.CheckName(r.PostFormValue("name"))
		if err != nil {
			err = inputErrorf("The name is not accepted: %v.", err)
		}
	}
	if err == nil {
		if kind == "modid" {
			err = s.db.SetModName(r.Context(), id, r.PostFormValue("name"))
		} else {
			err = s.db.SetCmdName(r.Context(), id, r.PostFormValue("name"))
		}
	}
	var ie inputError
	switch {
	case errors.As(err, &ie):
		s.renderNames(w, r, http.StatusBadRequest, ie.msg)
	case err != nil:
		s.storeError(w, r, err)
	default:
		redirect(w, r, "/names", url.Values{"done": {"named"}})
	}
}

// redirect answers a successful write with 303 See Other to path?query.
func redirect(w http.ResponseWriter, r *http.Request, path string, query url.Values) {
	http.Redirect(w, r, path+"?"+query.Encode(), http.StatusSeeOther)
}
