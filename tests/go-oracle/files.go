// Ops on files as etcd reads them: "parse" (a certificate file) and "parse_key" (a key file).
//
// "parse" reads a file as etcd reads a certificate file: the CERTIFICATE blocks that Go's
// encoding/pem finds (blocks it cannot decode are skipped, as pem.Decode skips them), each
// through x509.ParseCertificate, as tls.X509KeyPair and etcd's tlsutil.NewCertPool do; a file
// without any PEM block is taken as one DER certificate. "parse_key" reads a file as
// tls.X509KeyPair reads a key file: the first PEM block whose type is "PRIVATE KEY" or ends in
// " PRIVATE KEY" (a file without PEM is taken as DER), parsed as PKCS#1, then PKCS#8, then SEC1.
package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// path is the file a request names.
func (r request) path() (string, error) {
	if r.FileB64 != "" {
		b, err := base64.StdEncoding.DecodeString(r.FileB64)
		if err != nil {
			return "", fmt.Errorf("bad file_b64: %v", err)
		}
		return string(b), nil
	}
	if r.File == "" {
		return "", errors.New("no file given")
	}
	return r.File, nil
}

// readFile reads what the request names. Only regular files are read: Go's os.ReadFile would
// block on a FIFO and never end on /dev/zero, and the tests ask no such thing of the oracle.
func readFile(r request) ([]byte, error) {
	path, err := r.path()
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return os.ReadFile(path)
}

func opParse(r request) (answer, error) {
	data, err := readFile(r)
	if err != nil {
		return nil, err
	}
	certs, err := parseCertificates(data)
	if err != nil {
		return nil, err
	}
	return answer{"certs": len(certs)}, nil
}

// parseCertificates parses every certificate of a file as etcd would read it.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	sawPEM, sawKey := false, false
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		if block.Type != "CERTIFICATE" {
			sawKey = sawKey || strings.HasSuffix(block.Type, "PRIVATE KEY")
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
	if !sawPEM {
		// Not PEM: one DER certificate, as x509.ParseCertificate reads it.
		cert, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{cert}, nil
	}
	if len(certs) == 0 {
		// tls.X509KeyPair's messages.
		if sawKey {
			return nil, errors.New("tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched")
		}
		return nil, errors.New("tls: failed to find \"CERTIFICATE\" PEM block in certificate input")
	}
	return certs, nil
}

func opParseKey(r request) (answer, error) {
	data, err := readFile(r)
	if err != nil {
		return nil, err
	}
	der, err := keyDER(data)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKey(der)
	if err != nil {
		return nil, err
	}
	return answer{"key": describeKey(key)}, nil
}

// keyDER is the DER tls.X509KeyPair parses as the key: the first block whose type is
// "PRIVATE KEY" or ends in " PRIVATE KEY"; the whole input where there is no PEM at all.
func keyDER(data []byte) ([]byte, error) {
	sawPEM := false
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		if block.Type == "PRIVATE KEY" || strings.HasSuffix(block.Type, " PRIVATE KEY") {
			return block.Bytes, nil
		}
	}
	if sawPEM {
		return nil, errors.New("tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input")
	}
	return data, nil
}

// parsePrivateKey is crypto/tls's parsePrivateKey (Go 1.19; the same in Go 1.24), which
// tls.X509KeyPair calls.
func parsePrivateKey(der []byte) (interface{}, error) {
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, nil
	}
	if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		switch key := key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return key, nil
		default:
			return nil, errors.New("tls: found unknown private key type in PKCS#8 wrapping")
		}
	}
	if key, err := x509.ParseECPrivateKey(der); err == nil {
		return key, nil
	}
	return nil, errors.New("tls: failed to parse private key")
}

func describeKey(key interface{}) string {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PrivateKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", key)
	}
}
