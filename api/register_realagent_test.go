package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
)

// TestRegisterRealAgent registers with the real agent, which serves static routes
// here (no route service): it answers at once, on the key's port, refused with its
// reason; a ttl out of its range is invalid; a deregistration of what it does not
// hold is answered gone.
func TestRegisterRealAgent(t *testing.T) {
	a, c := realAgent(t, patience)
	_, err := c.Register(context.Background(), 1, 1, instance, api.RegisterOptions{Check: "tcp"})
	var re *api.RegisterError
	if !errors.Is(err, api.ErrRegistrationRefused) || !errors.As(err, &re) || !strings.Contains(re.Message, "static routes") {
		t.Fatalf("agent with static routes: %v", err)
	}
	if re.Agent.Port() != c.Port(1, 1) {
		t.Errorf("answered by port %d, want the key's %d", re.Agent.Port(), c.Port(1, 1))
	}
	_, err = c.Register(context.Background(), 1, 1, instance, api.RegisterOptions{TTL: 500 * time.Millisecond})
	if !errors.Is(err, api.ErrRegistrationInvalid) || !strings.Contains(err.Error(), "ttl 500ms") {
		t.Fatalf("ttl under the agent's 1s: %v", err)
	}
	if regs := a.Registrations(); len(regs) != 1 {
		t.Errorf("agent holds %d registrations, want the refused one", len(regs))
	}
	if s := c.Stats(); s.Malformed != 0 || s.Late != 0 {
		t.Errorf("stats %+v", s)
	}
}
