// The "verify_hostname" op: does a certificate cover a host, as Go's
// (*x509.Certificate).VerifyHostname decides, for hosts given as strings ("hosts", each passed
// to VerifyHostname as it is) and for etcd URLs ("urls", each turned into the name Go's
// net/http verifies when it connects to that URL, which is how an etcd member dials its peers).
//
// For a URL, url.Parse must accept it (else "url_error" has its message); its scheme is then
// taken as https (etcd-pki checks http URLs as if they were https), and the name comes from a
// real net/http Transport: the address it dials (canonicalAddr: the URL's host, mapped to ASCII
// by IDNA when it is not, with the port or the scheme's default) is caught by DialTLSContext,
// and the server name is that address without its port, as connectMethod.tlsHost computes it
// (transport.go, Go 1.19 and 1.24 alike). A request net/http refuses before dialing has
// "url_error" with net/http's message.
package main

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// lastCert is the certificate of the previous request: the tests ask many questions about one
// certificate in a row, and parsing it once is faster.
var lastCert struct {
	der  string
	cert *x509.Certificate
}

// certificate parses the request's "der".
func certificate(r request) (*x509.Certificate, error) {
	if r.DER == "" {
		return nil, errors.New("no der given")
	}
	if lastCert.cert != nil && lastCert.der == r.DER {
		return lastCert.cert, nil
	}
	der, err := base64.StdEncoding.DecodeString(r.DER)
	if err != nil {
		return nil, fmt.Errorf("bad der: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	lastCert.der, lastCert.cert = r.DER, cert
	return cert, nil
}

func opVerifyHostname(r request) (answer, error) {
	cert, err := certificate(r)
	if err != nil {
		return nil, err
	}
	hosts := make([]answer, 0, len(r.Hosts))
	for _, h := range r.Hosts {
		hosts = append(hosts, verdict(cert.VerifyHostname(h)))
	}
	urls := make([]answer, 0, len(r.URLs))
	for _, u := range r.URLs {
		name, err := serverName(u)
		if err != nil {
			urls = append(urls, answer{"url_error": err.Error()})
			continue
		}
		a := verdict(cert.VerifyHostname(name))
		a["server_name"] = name
		urls = append(urls, a)
	}
	return answer{"hosts": hosts, "urls": urls}, nil
}

// verdict is VerifyHostname's result as an answer.
func verdict(err error) answer {
	if err != nil {
		return answer{"ok": false, "error": err.Error()}
	}
	return answer{"ok": true}
}

// dialed carries the address net/http dials from DialTLSContext back to serverName; it also
// stops the dial, so nothing leaves the process.
type dialed struct{ addr string }

func (d dialed) Error() string { return "dialed " + d.addr }

var (
	transportOnce sync.Once
	transport     *http.Transport
)

// serverName is the name net/http's Transport verifies the certificate of rawURL's server
// against.
func serverName(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	u.Scheme = "https"
	transportOnce.Do(func() {
		transport = &http.Transport{
			Proxy: nil,
			DialTLSContext: func(_ context.Context, _, addr string) (net.Conn, error) {
				return nil, dialed{addr}
			},
		}
	})
	req := &http.Request{Method: "GET", URL: u, Header: http.Header{}, Host: u.Host}
	_, err = transport.RoundTrip(req)
	var d dialed
	if !errors.As(err, &d) {
		return "", fmt.Errorf("net/http refuses the request: %v", err)
	}
	// connectMethod.tlsHost: the dialed address without its port.
	h := d.addr
	if hasPort(h) {
		h = h[:strings.LastIndex(h, ":")]
	}
	return h, nil
}

// hasPort is net/http's: whether s has a port after its last colon (not one inside brackets).
func hasPort(s string) bool { return strings.LastIndex(s, ":") > strings.LastIndex(s, "]") }
