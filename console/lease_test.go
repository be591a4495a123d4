package console

import (
	"net/http"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// TestServicePageShowsRegistered: the service page says which hosts an instance
// registered (by which agent, lease left) and which an operator wrote.
func TestServicePageShowsRegistered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		k := route.Key{Modid: 8, Cmdid: 2}
		static, registered := testHost(t, "10.8.0.1", 80), testHost(t, "10.8.0.2", 81)
		if _, err := f.db.AddHost(f.ctx(), k, static); err != nil {
			t.Fatal(err)
		}
		if err := f.db.EnsureLeases(f.ctx()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Register(f.ctx(), k, registered, "agent/web-<1>", time.Hour); err != nil {
			t.Fatal(err)
		}
		code, body := f.get("/service/8/2")
		if code != http.StatusOK {
			t.Fatalf("service page: %d\n%s", code, body)
		}
		wantMatch(t, "service page", body,
			`(?s)<b>10\.8\.0\.1:80</b> <small class="static">static</small>.*`+
				`<b>10\.8\.0\.2:81</b> <small class="registered">registered by agent/web-&lt;1&gt;, lease (59m5\ds|1h0m0s) left</small>`)
	})
}

// testHost returns the host ip:port.
func testHost(t *testing.T, ip string, port int32) route.Host {
	t.Helper()
	n, err := route.ParseWireIP(ip)
	if err != nil {
		t.Fatal(err)
	}
	return route.FromWire(n, port)
}
