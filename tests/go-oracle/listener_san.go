// The "check_cert_san" op: etcd's listener-side check of a client certificate against the
// address the client connects from, ported from etcd's checkCertSAN and isHostInDNS, which are
// the same in etcd v3.4.23 (pkg/transport/listener_tls.go) and v3.5.16
// (client/pkg/transport/listener_tls.go). etcd runs it on every https peer listener (unless
// --experimental-peer-skip-client-san-verification) and client listener with client
// certificate authentication, on the first certificate the client presents.
//
// The port is line for line, except that etcd's reverse (PTR) and forward lookups through
// net.DefaultResolver are replaced by tables given in the request, since real DNS cannot be
// reproduced offline: "ptr" maps an address as the remote address's host spells it to the names
// its PTR records hold (as a resolver returns them, with a trailing dot); "forward" maps a name
// to the addresses it resolves to. A name or address missing from its table fails to resolve
// with Go's own *net.DNSError ("lookup NAME: no such host"). Each case's answer is
// {"ok":true} when etcd accepts the connection and {"ok":false,"error":...} with etcd's error
// otherwise.
package main

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"
)

// sanCase is one connection: where it comes from and what DNS would say. The remote address
// is "remote_addr" as given, or "remote_ip" spelled as etcd gets it from the connection
// (net.TCPAddr.String(), with port 40000: an IPv4-mapped address in dotted IPv4 form).
type sanCase struct {
	RemoteAddr string              `json:"remote_addr,omitempty"`
	RemoteIP   string              `json:"remote_ip,omitempty"`
	PTR        map[string][]string `json:"ptr,omitempty"`
	Forward    map[string][]string `json:"forward,omitempty"`
}

func opCheckCertSAN(r request) (answer, error) {
	cert, err := certificate(r)
	if err != nil {
		return nil, err
	}
	cases := make([]answer, 0, len(r.Cases))
	for _, c := range r.Cases {
		addr := c.RemoteAddr
		if c.RemoteIP != "" {
			ip := net.ParseIP(c.RemoteIP)
			if ip == nil {
				return nil, fmt.Errorf("remote_ip %q is no IP", c.RemoteIP)
			}
			addr = (&net.TCPAddr{IP: ip, Port: 40000}).String()
		}
		a := verdict(checkCertSAN(cert, addr, tableResolver(c)))
		a["remote_addr"] = addr
		cases = append(cases, a)
	}
	return answer{"cases": cases}, nil
}

// resolver is what isHostInDNS asks of net.DefaultResolver.
type resolver interface {
	LookupAddr(addr string) ([]string, error)
	LookupHost(host string) ([]string, error)
}

// tableResolver answers from a case's tables.
type tableResolver sanCase

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (t tableResolver) LookupAddr(addr string) ([]string, error) {
	if names, ok := t.PTR[addr]; ok {
		return names, nil
	}
	return nil, notFound(addr)
}

func (t tableResolver) LookupHost(host string) ([]string, error) {
	if addrs, ok := t.Forward[host]; ok {
		return addrs, nil
	}
	return nil, notFound(host)
}

// checkCertSAN is etcd's, with the resolver as a parameter.
func checkCertSAN(cert *x509.Certificate, remoteAddr string, r resolver) error {
	if len(cert.IPAddresses) == 0 && len(cert.DNSNames) == 0 {
		return nil
	}
	h, _, herr := net.SplitHostPort(remoteAddr)
	if herr != nil {
		return herr
	}
	if len(cert.IPAddresses) > 0 {
		cerr := cert.VerifyHostname(h)
		if cerr == nil {
			return nil
		}
		if len(cert.DNSNames) == 0 {
			return cerr
		}
	}
	if len(cert.DNSNames) > 0 {
		ok, err := isHostInDNS(h, cert.DNSNames, r)
		if ok {
			return nil
		}
		errStr := ""
		if err != nil {
			errStr = " (" + err.Error() + ")"
		}
		// etcd appends errStr to the format string itself, so a '%' in it is read as a verb.
		return fmt.Errorf("tls: %q does not match any of DNSNames %q"+errStr, h, cert.DNSNames)
	}
	return nil
}

// isHostInDNS is etcd's, with the resolver as a parameter.
func isHostInDNS(host string, dnsNames []string, r resolver) (ok bool, err error) {
	// reverse lookup
	wildcards, names := []string{}, []string{}
	for _, dns := range dnsNames {
		if strings.HasPrefix(dns, "*.") {
			wildcards = append(wildcards, dns[1:])
		} else {
			names = append(names, dns)
		}
	}
	lnames, lerr := r.LookupAddr(host)
	for _, name := range lnames {
		// strip trailing '.' from PTR record
		if name[len(name)-1] == '.' {
			name = name[:len(name)-1]
		}
		for _, wc := range wildcards {
			if strings.HasSuffix(name, wc) {
				return true, nil
			}
		}
		for _, n := range names {
			if n == name {
				return true, nil
			}
		}
	}
	err = lerr

	// forward lookup
	for _, dns := range names {
		addrs, lerr := r.LookupHost(dns)
		if lerr != nil {
			err = lerr
			continue
		}
		for _, addr := range addrs {
			if addr == host {
				return true, nil
			}
		}
	}
	return false, err
}
