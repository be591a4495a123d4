package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/internal/browsertest"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// routeOf asks the agent for every host of k, as "IP:PORT" strings sorted.
func routeOf(c *api.Client, k route.Key) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	hosts, err := c.GetRoute(ctx, k.Modid, k.Cmdid, nil)
	var out []string
	for _, h := range hosts {
		out = append(out, h.String())
	}
	slices.Sort(out)
	return out, err
}

// TestBrowserAddAndRemoveHost drives the console in chromium: services, a service, a
// host added with the form, seen in the list, in the history and served by an agent
// fed by lars-dns, then removed; a host added with a weight and a zone, seen in the
// list's columns, then its weight changed. Screenshots go to a folder the test names.
func TestBrowserAddAndRemoveHost(t *testing.T) {
	chromium := browsertest.Chromium(t)
	proctest.Build(t, "lars-console", "lars-dns", "lars-agent")
	shots, err := os.MkdirTemp("", "lars-console-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of each page: %s", shots)

	// The store: service 1/1 with two hosts, names and call status.
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k := route.Key{Modid: 1, Cmdid: 1}
	seed, _ := route.ParseHostList("10.0.0.1:9000 10.0.0.2:9000 10.0.0.3:9000", 0)
	if _, err := db.SetHosts(store.WithWho(ctx, "seed"), k, seed); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetHosts(store.WithWho(ctx, "seed"), route.Key{Modid: 2, Cmdid: 5}, seed[:1]); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{db.SetModName(ctx, 1, "users"), db.SetCmdName(ctx, 1, "lookup"), db.SetModName(ctx, 2, "billing")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Unix()
	caller := int32(2130706433)
	if err := db.UpsertCallStatus(ctx, []store.CallStatus{
		{Key: k, Host: seed[0], Caller: caller, Succ: 980, Err: 20, TS: now},
		{Key: k, Host: seed[1], Caller: caller, Succ: 600, Err: 400, TS: now, Overload: true},
		{Key: k, Host: seed[2], Caller: caller, Succ: 750, Err: 0, TS: now - 20},
	}); err != nil {
		t.Fatal(err)
	}

	// The system: lars-dns on the store, an agent pulling from it, the console.
	dnsAddr := proctest.FreeAddr(t)
	proctest.Start(t, "lars-dns", "-db", dsn, "-listen", dnsAddr, "-poll", "100ms").WaitListening(t, dnsAddr, 20*time.Second)
	port := proctest.FreePort(t, "udp")
	proctest.Start(t, "lars-agent", "-dns", dnsAddr, "-reporter", proctest.FreeAddr(t), "-ports", fmt.Sprint(port))
	consoleAddr := proctest.FreeAddr(t)
	pwFile := filepath.Join(t.TempDir(), "initial-password")
	proctest.Start(t, "lars-console", "-db", dsn, "-listen", consoleAddr, "-initial-password-file", pwFile).WaitListening(t, consoleAddr, 20*time.Second)
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatalf("the first start's password file: %v", err)
	}
	base := "http://" + consoleAddr
	client, err := api.New(api.Config{Agent: netip.MustParseAddr("127.0.0.1"), Ports: []uint16{uint16(port)}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	agentServes := func(want []string) {
		t.Helper()
		proctest.Eventually(t, 30*time.Second, fmt.Sprintf("the agent serving %v for %v", want, k), func() (bool, string) {
			got, err := routeOf(client, k)
			return err == nil && slices.Equal(got, want), fmt.Sprintf("%v, %v", got, err)
		})
	}
	agentServes([]string{"10.0.0.1:9000", "10.0.0.2:9000", "10.0.0.3:9000"})

	refusedForm := func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && m.URL == base+"/hosts/add" && strings.Contains(m.Text, "status of 400")
	}
	bctx, consoleProblems := browsertest.Start(t, chromium, browsertest.Options{Width: 1280, Height: 900, Expected: refusedForm})
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		defer scancel()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	count := func(sel string) int {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		defer scancel()
		n, err := chromedp.Run(sctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
		if err != nil {
			t.Fatalf("count of %s: %v", sel, err)
		}
		return n
	}
	shot := func(name string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		defer scancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Deny by default: the services page asks for a login first, as the first start's
	// admin.
	step("open the services page: the login page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))
	shot("0-login")
	step("log in as admin",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), strings.TrimSpace(string(pw))),
		chromedp.Click(chromedp.CSS(`form.card button`)),
		chromedp.WaitVisible(chromedp.CSS("#services")))
	if s := text("#user"); s != "admin (admin)" {
		t.Errorf("logged in as %q", s)
	}

	// The services page.
	step("open the services page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#services")))
	if s := text("#services"); !strings.Contains(s, "users · lookup") || !strings.Contains(s, "billing") {
		t.Errorf("services table:\n%s", s)
	}
	if s := text(".summary"); s != "2 services, 4 hosts, 1 overloaded on this page." {
		t.Errorf("summary %q", s)
	}
	shot("1-services")

	// One service a page: the next-page link leads to the second.
	step("open the services one a page", chromedp.Navigate(base+"/?n=1"), chromedp.WaitVisible(chromedp.CSS("#services")))
	if s := text(".pager"); !strings.Contains(s, "services 1-1 of 2") {
		t.Errorf("first page's pager %q", s)
	}
	step("follow the next-page link", chromedp.Click(chromedp.CSS(`.pager a[rel="next"]`)), chromedp.WaitVisible(chromedp.CSS(`.pager a[rel="prev"]`)))
	if s, p := text("#services"), text(".pager"); !strings.Contains(s, "2/5") || strings.Contains(s, "1/1") || !strings.Contains(p, "services 2-2 of 2") {
		t.Errorf("second page: pager %q, services:\n%s", p, s)
	}
	shot("1b-services-page-2")

	// One service, opened from the list.
	step("open service 1/1", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#services")),
		chromedp.Click(chromedp.CSS(`a[href="/service/1/1"]`)), chromedp.WaitVisible(chromedp.CSS("#hosts")))
	if n := count("#hosts tr.host"); n != 3 {
		t.Errorf("%d hosts listed, want 3", n)
	}
	if n := count("#hosts tr.host.overloaded"); n != 1 {
		t.Errorf("%d overloaded hosts marked, want 1", n)
	}
	step("wait for the chart", chromedp.Poll[chromedp.Void](`document.querySelector("#chart") && document.querySelector("#chart").complete && document.querySelector("#chart").naturalWidth > 0`))
	shot("2-service")

	// Bad input is refused on the page.
	step("add a bad port",
		chromedp.SendKeys(chromedp.CSS(`#add-host input[name="ip"]`), "10.0.0.9"),
		chromedp.SendKeys(chromedp.CSS(`#add-host input[name="port"]`), "70000"),
		chromedp.Click(chromedp.CSS(`#add-host button`)),
		chromedp.WaitVisible(chromedp.CSS("#error")))
	if s := text("#error"); !strings.Contains(s, `The port "70000" is out of range`) {
		t.Errorf("error for port 70000: %q", s)
	}
	shot("3-bad-input")

	// Add a host with the form.
	step("add 10.0.0.4:9001",
		chromedp.Navigate(base+"/service/1/1"), chromedp.WaitVisible(chromedp.CSS("#add-host")),
		chromedp.SendKeys(chromedp.CSS(`#add-host input[name="ip"]`), "10.0.0.4"),
		chromedp.SendKeys(chromedp.CSS(`#add-host input[name="port"]`), "9001"),
		chromedp.Click(chromedp.CSS(`#add-host button`)),
		chromedp.WaitVisible(chromedp.CSS("#flash")))
	if s := text("#flash"); !strings.Contains(s, "Added host 10.0.0.4:9001.") {
		t.Errorf("flash after adding: %q", s)
	}
	if n := count(`#hosts tr[data-host="10.0.0.4:9001"]`); n != 1 {
		t.Errorf("the added host is listed %d times", n)
	}
	shot("4-added")
	agentServes([]string{"10.0.0.1:9000", "10.0.0.2:9000", "10.0.0.3:9000", "10.0.0.4:9001"})

	// The history shows who added it.
	step("open the changes", chromedp.Click(chromedp.CSS(`a[href="/history"]`)), chromedp.WaitVisible(chromedp.CSS("#history table")))
	first := text("#history tbody tr:first-child")
	for _, want := range []string{"admin (lars-console 127.0.0.1)", "add host", "1/1", "10.0.0.1:9000 10.0.0.2:9000 10.0.0.3:9000 10.0.0.4:9001"} {
		if !strings.Contains(first, want) {
			t.Errorf("newest history row %q lacks %q", first, want)
		}
	}
	shot("5-history")

	// Remove it.
	step("remove 10.0.0.4:9001",
		chromedp.Navigate(base+"/service/1/1"), chromedp.WaitVisible(chromedp.CSS("#hosts")),
		chromedp.Click(chromedp.CSS(`button[aria-label="remove 10.0.0.4:9001"]`)),
		chromedp.WaitVisible(chromedp.CSS("#flash")))
	if s := text("#flash"); !strings.Contains(s, "Removed host 10.0.0.4:9001.") {
		t.Errorf("flash after removing: %q", s)
	}
	if n := count(`#hosts tr[data-host="10.0.0.4:9001"]`); n != 0 {
		t.Errorf("the removed host is still listed")
	}
	shot("6-removed")
	agentServes([]string{"10.0.0.1:9000", "10.0.0.2:9000", "10.0.0.3:9000"})

	// A host with a weight and a zone, then its weight changed by adding it again.
	addWeighted := func(what, weight, zone string) {
		t.Helper()
		step(what,
			chromedp.Navigate(base+"/service/1/1"), chromedp.WaitVisible(chromedp.CSS("#add-host")),
			chromedp.SendKeys(chromedp.CSS(`#add-host input[name="ip"]`), "10.0.0.5"),
			chromedp.SendKeys(chromedp.CSS(`#add-host input[name="port"]`), "9002"),
			chromedp.SendKeys(chromedp.CSS(`#add-host input[name="weight"]`), weight),
			chromedp.SendKeys(chromedp.CSS(`#add-host input[name="zone"]`), zone),
			chromedp.Click(chromedp.CSS(`#add-host button`)),
			chromedp.WaitVisible(chromedp.CSS("#flash")))
	}
	row := `#hosts tr[data-host="10.0.0.5:9002"]`
	addWeighted("add 10.0.0.5:9002 with weight 300 in zone eu-west", "300", "eu-west")
	if s := text("#flash"); !strings.Contains(s, "Added host 10.0.0.5:9002;weight=300;zone=eu-west.") {
		t.Errorf("flash after adding a weighted host: %q", s)
	}
	if n := count(row); n != 1 {
		t.Fatalf("the weighted host is listed %d times", n)
	}
	if w, z := text(row+" td.weight"), text(row+" td.zone"); w != "300" || z != "eu-west" {
		t.Errorf("weighted host's weight %q and zone %q, want 300 and eu-west", w, z)
	}
	if w, z := text(`#hosts tr[data-host="10.0.0.1:9000"] td.weight`), text(`#hosts tr[data-host="10.0.0.1:9000"] td.zone`); w != "default (100)" || z != "-" {
		t.Errorf("plain host's weight %q and zone %q", w, z)
	}
	shot("6b-weighted")
	agentServes([]string{"10.0.0.1:9000", "10.0.0.2:9000", "10.0.0.3:9000", "10.0.0.5:9002;weight=300;zone=eu-west"})
	addWeighted("set 10.0.0.5:9002's weight to 50", "50", "eu-west")
	if s := text("#flash"); !strings.Contains(s, "Set host 10.0.0.5:9002 to weight 50, zone eu-west (it had weight 300, zone eu-west).") {
		t.Errorf("flash after setting the weight: %q", s)
	}
	if w := text(row + " td.weight"); w != "50" {
		t.Errorf("weight after setting it: %q", w)
	}
	shot("6c-weight-set")
	agentServes([]string{"10.0.0.1:9000", "10.0.0.2:9000", "10.0.0.3:9000", "10.0.0.5:9002;weight=50;zone=eu-west"})

	step("open the names", chromedp.Navigate(base+"/names"), chromedp.WaitVisible(chromedp.CSS("#modids")))
	shot("7-names")

	// The admin's accounts page lists the first start's admin.
	step("open the accounts", chromedp.Click(chromedp.CSS(`a[href="/accounts"]`)), chromedp.WaitVisible(chromedp.CSS(`#accounts tr[data-account="admin"]`)))
	shot("7b-accounts")

	// Log out: the pages ask for a login again.
	// (The accounts page has password fields too: wait for the login form's.)
	step("log out", chromedp.Click(chromedp.CSS(`form.logout button`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] input[name="password"]`)))
	step("the services page after logout", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] input[name="password"]`)))
	shot("8-logged-out")

	if p := consoleProblems(); len(p) > 0 {
		t.Errorf("errors in the browser console:\n%s", strings.Join(p, "\n"))
	}
}
