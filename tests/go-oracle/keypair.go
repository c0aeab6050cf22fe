// The "x509_key_pair" op: Go's own tls.X509KeyPair on a certificate file's and a key file's
// bytes, which is how etcd loads --cert-file/--key-file and --peer-cert-file/--peer-key-file
// (tls.LoadX509KeyPair reads both files and calls it). Nothing is emulated here: the answer is
// what the Go that builds the oracle decides, under the GODEBUG it runs with (etcd 3.5's has
// x509keypairleaf=0, which changes only whether Certificate.Leaf is set).
//
// The inputs are inline, in standard base64: "cert_pem_b64" and "key_pem_b64" (their bytes as
// they would be in the files, PEM or not). The answer is ok with "key", the private key's type
// as the "parse_key" op names it, or Go's error string.
package main

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
)

func opX509KeyPair(r request) (answer, error) {
	certPEM, err := base64.StdEncoding.DecodeString(r.CertPEMB64)
	if err != nil {
		return nil, fmt.Errorf("bad cert_pem_b64: %v", err)
	}
	keyPEM, err := base64.StdEncoding.DecodeString(r.KeyPEMB64)
	if err != nil {
		return nil, fmt.Errorf("bad key_pem_b64: %v", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return answer{"key": describeKey(pair.PrivateKey), "certs": len(pair.Certificate)}, nil
}
