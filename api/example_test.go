package api_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"slices"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/api/apitest"
	"github.com/larsgo/lars/route"
)

// The life of a caller: pull the route once, then for every call ask for a host, call
// it, and report how it went.
func Example() {
	agent, err := apitest.Start(3) // a fake agent on 3 loopback ports; a real one listens on 8888..8890
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()
	backend, _ := api.ParseHost("10.0.0.1:8080")
	agent.SetRoute(10001, 1, backend)

	// api.New(api.Config{}) for the agent on 127.0.0.1:8888..8890; here the fake, with
	// a timeout generous enough for a test on a busy machine.
	cfg := agent.Config()
	cfg.Timeout = 30 * time.Second
	client, err := api.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx := context.Background()
	if err := client.RegInit(ctx, 10001, 1); err != nil {
		log.Fatal(err)
	}
	host, err := client.GetHost(ctx, 10001, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("calling", host)
	// ... call host, then report: retcode 0 when the call succeeded, 1 when it failed.
	if err := client.Report(10001, 1, host, 0); err != nil {
		log.Fatal(err)
	}
	// Output: calling 10.0.0.1:8080
}

// GetHost's errors say why there is no host to call.
func ExampleClient_GetHost() {
	agent, err := apitest.Start(3)
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()
	agent.SetRetcode(1, 1, 1) // every host of key (1, 1) is overloaded

	cfg := agent.Config()
	cfg.Timeout = 30 * time.Second // generous: an example must not fail on a busy machine
	client, err := api.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	for _, cmdid := range []int32{1, 2} {
		_, err := client.GetHost(context.Background(), 1, cmdid)
		switch {
		case errors.Is(err, api.ErrOverload):
			fmt.Println(cmdid, "overloaded: back off")
		case errors.Is(err, api.ErrNoExist):
			fmt.Println(cmdid, "no host known: RegInit first, or a wrong key")
		case errors.Is(err, api.ErrTimeout), errors.Is(err, api.ErrAgentUnreachable):
			fmt.Println(cmdid, "agent down")
		}
	}
	// Output:
	// 1 overloaded: back off
	// 2 no host known: RegInit first, or a wrong key
}

func ExampleClient_GetRoute() {
	agent, err := apitest.Start(3)
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()
	v4, _ := api.ParseHost("10.0.0.1:9000;weight=200;zone=eu-1a")
	v6, _ := api.ParseHost("[2001:db8::1]:9000")
	agent.SetRoute(7, 3, v4, v6)

	cfg := agent.Config()
	cfg.Timeout = 30 * time.Second // generous: an example must not fail on a busy machine
	client, err := api.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	hosts, err := client.GetRoute(context.Background(), 7, 3, nil)
	if err != nil {
		log.Fatal(err)
	}
	slices.SortFunc(hosts, route.Compare)
	for _, h := range hosts {
		fmt.Println(h.Addr, "weight", h.EffectiveWeight(), "zone", h.Zone)
	}
	// Output:
	// 10.0.0.1:9000 weight 200 zone eu-1a
	// [2001:db8::1]:9000 weight 100 zone

}

func ExamplePortIndex() {
	ports := api.DefaultPorts()
	for _, key := range [][2]int32{{10001, 1}, {10001, 2}, {-1, 0}} {
		fmt.Println(key, "->", ports[api.PortIndex(key[0], key[1], len(ports))])
	}
	// Output:
	// [10001 1] -> 8888
	// [10001 2] -> 8889
	// [-1 0] -> 8890
}

// A process registers its own instance with the agent on its machine, which keeps it
// in the route while the registration is kept alive; Close deregisters it.
func ExampleClient_Register() {
	agent, err := apitest.Start(3) // a fake agent that takes every registration
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()
	cfg := agent.Config()
	cfg.Timeout = 30 * time.Second // generous: an example must not fail on a busy machine
	client, err := api.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// Wait up to 10 s for the route service to take it (the agent answers pending
	// meanwhile); the agent checks the instance's port every second.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reg, err := client.Register(ctx, 10001, 1, netip.MustParseAddrPort("10.0.0.1:8080"),
		api.RegisterOptions{TTL: 10 * time.Second, Check: "tcp"})
	if err != nil {
		// api.ErrRegistrationRefused (errors.Is): not allowed, or registration off, the
		// message says which; api.ErrTimeout: no answer (a Lars agent), or still pending.
		log.Fatal(err)
	}
	fmt.Println("registered:", reg.State())

	// ... serve, until the process ends or the agent ends the registration:
	select {
	case <-reg.Done(): // an operator removed the instance, for example
		log.Print(reg.Err())
	default:
	}
	if err := reg.Close(); err != nil { // deregistered at once
		log.Print(err)
	}
	fmt.Println("deregistered:", reg.State())
	// Output:
	// registered: active
	// deregistered: gone
}
