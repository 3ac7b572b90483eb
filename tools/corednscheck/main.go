// corednscheck resolves the upstreams of a Corefile's forward directives the way CoreDNS does at
// start, with the CoreDNS and Caddy versions Kuscia 1.1.0b0 embeds (pinned in go.mod): the
// Corefile is read by CoreDNS's Caddyfile parser, each server block's forward stanzas are walked
// with its dispenser as plugin/forward's parseStanza walks them, and the TO arguments go through
// plugin/pkg/parse.HostPortOrFile, the call that reads a resolv.conf named as a target.
//
//	corednscheck COREFILE
//
// On success it prints {"upstreams": [...]} (every forward stanza's upstreams, in order, as
// CoreDNS formats them, e.g. "10.96.0.10:53"). When CoreDNS would refuse the Corefile's forward
// setup it exits 1 and prints CoreDNS's own error ("plugin/forward: ..."); a Corefile without any
// forward directive also exits 1. Directive names are not checked against a directive list
// (Kuscia registers its own list); only forward is interpreted.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/coredns/caddy/caddyfile"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/parse"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: corednscheck COREFILE")
		os.Exit(2)
	}
	upstreams, err := check(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "corednscheck:", err)
		os.Exit(1)
	}
	out, err := json.Marshal(map[string][]string{"upstreams": upstreams})
	if err != nil {
		fmt.Fprintln(os.Stderr, "corednscheck:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func check(path string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	blocks, err := caddyfile.Parse(path, file, nil)
	if err != nil {
		return nil, err
	}
	upstreams := []string{}
	found := false
	for _, block := range blocks {
		tokens, ok := block.Tokens["forward"]
		if !ok {
			continue
		}
		found = true
		// caddy runs a directive's setup once per server block, on these tokens
		d := caddyfile.NewDispenserTokens(path, tokens)
		hosts, err := forwardStanzas(&d)
		if err != nil {
			return nil, plugin.Error("forward", err)
		}
		upstreams = append(upstreams, hosts...)
	}
	if !found {
		return nil, errors.New("no forward directive in " + path)
	}
	return upstreams, nil
}

// forwardStanzas follows plugin/forward's parseForward and parseStanza up to the resolution of
// the TO arguments; the options block of each stanza is skipped.
func forwardStanzas(d *caddyfile.Dispenser) ([]string, error) {
	var upstreams []string
	for d.Next() {
		var from string
		if !d.Args(&from) {
			return nil, d.ArgErr()
		}
		if len(plugin.Host(from).NormalizeExact()) == 0 {
			return nil, fmt.Errorf("unable to normalize '%s'", from)
		}
		to := d.RemainingArgs()
		if len(to) == 0 {
			return nil, d.ArgErr()
		}
		hosts, err := parse.HostPortOrFile(to...)
		if err != nil {
			return nil, err
		}
		upstreams = append(upstreams, hosts...)
		for d.NextBlock() {
			d.RemainingArgs()
		}
	}
	return upstreams, nil
}
