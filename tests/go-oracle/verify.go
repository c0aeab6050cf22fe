// Ops on chains: "verify" (crypto/x509's Verify, as etcd's TLS listeners and clients call it)
// and, in the same request, which certificates signed which ("signers": for scan's issuer
// choice).
//
//	{"op":"verify","certs":["MII...",...],"leaf":0,"intermediates":[1,2],"roots":[3],
//	 "time":1906502400,"usages":[["any"],["serverAuth"],["clientAuth"]],"signers":true}
//	-> {"ok":true,
//	    "parsed":[null | "x509: ...", ...],          one per certificate
//	    "results":[{"ok":true,"chains":[[0,1,3],...]} | {"ok":false,"error":"x509: ..."}
//	               | {"ok":false,"panic":"..."} (Go panicked), ...],
//	    "signers":[[3,1], [], ...],                   one per certificate
//	    "self_signed":[true, false, ...]}              one per certificate
//
// Certificates are given once, as DER in standard base64, and named by their index. The pools
// are x509.CertPools built with AddCert in the order given; a certificate Go cannot parse is
// left out of them (its parse error is in "parsed"), and a leaf Go cannot parse gets no results.
// Each usage set is one Verify call with those KeyUsages (names: "any", "serverAuth",
// "clientAuth", "codeSigning"; an empty set is Go's default, serverAuth), CurrentTime = "time"
// (Unix seconds, UTC). A chain is the indexes of its certificates, leaf first; a certificate
// given twice is named by its first index.
//
// "signers" lists, for each certificate, the others that may have issued it, in the order Go's
// CertPool.findPotentialParents tries them (the subject equals its issuer; matching key
// identifiers first, then one of the two missing, then mismatching; otherwise in the order
// given), keeping those that pass CheckSignatureFrom's checks of the parent (a v3 certificate
// must have basic constraints with cA; key usage, if any, must include keyCertSign; the public
// key algorithm must be known; copied from Go 1.19 and 1.24's CheckSignatureFrom, identical) and
// whose key verifies the signature with Certificate.CheckSignature, which allows SHA-1: the
// question is who signed, not whether Verify would trust it. "self_signed" says, for each, whether
// its issuer is its subject and its own key verifies its signature (SHA-1 allowed; no parent
// checks), which is what a scan calls a self-signed certificate.
package main

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"
)

// chainRequest is the part of a request the "verify" op reads.
type chainRequest struct {
	Certs         []string   `json:"certs,omitempty"`
	Leaf          int        `json:"leaf,omitempty"`
	Intermediates []int      `json:"intermediates,omitempty"`
	Roots         []int      `json:"roots,omitempty"`
	Time          int64      `json:"time,omitempty"`
	Usages        [][]string `json:"usages,omitempty"`
	Signers       bool       `json:"signers,omitempty"`
}

var usageNames = map[string]x509.ExtKeyUsage{
	"any":         x509.ExtKeyUsageAny,
	"serverAuth":  x509.ExtKeyUsageServerAuth,
	"clientAuth":  x509.ExtKeyUsageClientAuth,
	"codeSigning": x509.ExtKeyUsageCodeSigning,
}

func opVerify(r request) (answer, error) {
	n := len(r.Certs)
	certs := make([]*x509.Certificate, n)
	parsed := make([]interface{}, n)
	index := map[string]int{}
	for i, b64 := range r.Certs {
		der, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("certs[%d]: %v", i, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			parsed[i] = err.Error()
			continue
		}
		certs[i] = cert
		if _, seen := index[string(der)]; !seen {
			index[string(der)] = i
		}
	}
	inRange := func(i int) error {
		if i < 0 || i >= n {
			return fmt.Errorf("index %d out of range", i)
		}
		return nil
	}
	pool := func(ids []int) (*x509.CertPool, error) {
		p := x509.NewCertPool()
		for _, i := range ids {
			if err := inRange(i); err != nil {
				return nil, err
			}
			if certs[i] != nil {
				p.AddCert(certs[i])
			}
		}
		return p, nil
	}
	intermediates, err := pool(r.Intermediates)
	if err != nil {
		return nil, err
	}
	roots, err := pool(r.Roots)
	if err != nil {
		return nil, err
	}
	if err := inRange(r.Leaf); err != nil {
		return nil, err
	}
	a := answer{"parsed": parsed}
	if leaf := certs[r.Leaf]; leaf != nil {
		results := make([]answer, 0, len(r.Usages))
		for _, names := range r.Usages {
			opts := x509.VerifyOptions{
				Intermediates: intermediates,
				Roots:         roots,
				CurrentTime:   time.Unix(r.Time, 0).UTC(),
			}
			for _, name := range names {
				usage, known := usageNames[name]
				if !known {
					return nil, fmt.Errorf("unknown usage %q", name)
				}
				opts.KeyUsages = append(opts.KeyUsages, usage)
			}
			chains, err, panicked := verifyRecovering(leaf, opts)
			if panicked != nil {
				results = append(results, answer{"ok": false, "panic": fmt.Sprint(panicked)})
				continue
			}
			if err != nil {
				results = append(results, answer{"ok": false, "error": err.Error()})
				continue
			}
			named := make([][]int, 0, len(chains))
			for _, chain := range chains {
				ids := make([]int, 0, len(chain))
				for _, c := range chain {
					ids = append(ids, index[string(c.Raw)])
				}
				named = append(named, ids)
			}
			results = append(results, answer{"ok": true, "chains": named})
		}
		a["results"] = results
	}
	if r.Signers {
		signers := make([][]int, n)
		selfSigned := make([]bool, n)
		for i, c := range certs {
			signers[i] = []int{}
			if c == nil {
				continue
			}
			selfSigned[i] = bytes.Equal(c.RawIssuer, c.RawSubject) &&
				c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
			for _, j := range potentialParents(c, certs) {
				if signedBy(c, certs[j]) == nil {
					signers[i] = append(signers[i], j)
				}
			}
		}
		a["signers"] = signers
		a["self_signed"] = selfSigned
	}
	return a, nil
}

// verifyRecovering is leaf.Verify(opts), with a panic of Go's caught and returned: Go 1.19's
// alreadyInChain asserts an interface on a CA whose public key it does not know (a nil
// PublicKey) and panics where such a CA has the name of a certificate already in the chain.
func verifyRecovering(leaf *x509.Certificate, opts x509.VerifyOptions) (chains [][]*x509.Certificate, err error, panicked interface{}) {
	defer func() {
		panicked = recover()
	}()
	chains, err = leaf.Verify(opts)
	return chains, err, nil
}

// potentialParents is CertPool.findPotentialParents over all of certs (Go 1.19 and 1.24 alike).
func potentialParents(c *x509.Certificate, certs []*x509.Certificate) []int {
	var matchingKeyID, oneKeyID, mismatchKeyID []int
	for j, candidate := range certs {
		if candidate == nil || !bytes.Equal(candidate.RawSubject, c.RawIssuer) {
			continue
		}
		kidMatch := bytes.Equal(candidate.SubjectKeyId, c.AuthorityKeyId)
		switch {
		case kidMatch:
			matchingKeyID = append(matchingKeyID, j)
		case (len(candidate.SubjectKeyId) == 0 && len(c.AuthorityKeyId) > 0) ||
			(len(candidate.SubjectKeyId) > 0 && len(c.AuthorityKeyId) == 0):
			oneKeyID = append(oneKeyID, j)
		default:
			mismatchKeyID = append(mismatchKeyID, j)
		}
	}
	return append(append(matchingKeyID, oneKeyID...), mismatchKeyID...)
}

// signedBy is CheckSignatureFrom with SHA-1 allowed (see the file's comment).
func signedBy(c, parent *x509.Certificate) error {
	if parent.Version == 3 && !parent.BasicConstraintsValid ||
		parent.BasicConstraintsValid && !parent.IsCA {
		return x509.ConstraintViolationError{}
	}
	if parent.KeyUsage != 0 && parent.KeyUsage&x509.KeyUsageCertSign == 0 {
		return x509.ConstraintViolationError{}
	}
	if parent.PublicKeyAlgorithm == x509.UnknownPublicKeyAlgorithm {
		return x509.ErrUnsupportedAlgorithm
	}
	return parent.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
}
