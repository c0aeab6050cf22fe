// Command go-oracle answers questions about certificates and key files as Go's crypto/x509,
// crypto/tls and net/http answer them, and as etcd's listeners decide, for differential tests of
// etcd-pki (tests/src/go_oracle.rs builds and runs it). It uses the standard library only, so
// that it builds offline and its answers are those of the Go that builds it: Debian bookworm's
// golang-go (Go 1.19.8, the Go of Debian's etcd 3.4.23) or trixie's golang-1.24-go (the Go
// line of etcd 3.5.16, built with Go 1.24.0). The tests run it with the GODEBUG settings of the
// etcd binary it stands for; the "version" op reports both.
//
// Protocol: one JSON object per line on stdin, one answer per line on stdout, in order, for as
// long as stdin stays open; one process serves a whole test run. Every request has an "op" and
// may carry an "id", echoed in its answer. Every answer has "ok"; a refusal has "error" with
// Go's message. A file is named by "file" (a UTF-8 path) or "file_b64" (the path's bytes in
// standard base64, for names that are not UTF-8); a certificate given inline is "der", its DER
// in standard base64.
//
//	{"op":"version"} -> {"ok":true,"go":"go1.24.4","godebug":"...","default_godebug":"..."}
//	{"op":"parse","file":"a.pem"}     -> {"ok":true,"certs":2} | {"ok":false,"error":"..."}
//	{"op":"parse_key","file":"k.pem"} -> {"ok":true,"key":"ECDSA P-256"} | {"ok":false,...}
//	{"op":"verify_hostname","der":"MII...","hosts":["h",...],"urls":["https://h:2380",...]}
//	    -> {"ok":true,"hosts":[{"ok":true} | {"ok":false,"error":"x509: ..."}, ...],
//	        "urls":[{"server_name":"h","ok":...,"error":...} | {"url_error":"..."}, ...]}
//	    | {"ok":false,"error":"x509: ..."} when the certificate does not parse
//	{"op":"x509_key_pair","cert_pem_b64":"LS0t...","key_pem_b64":"LS0t..."}
//	    -> {"ok":true,"key":"ECDSA P-256","certs":1} | {"ok":false,"error":"tls: ..."}
//	{"op":"check_cert_san","der":"MII...","cases":[{"remote_ip":"127.0.0.1",
//	    "ptr":{"127.0.0.1":["a.example."]},"forward":{"a.example":["127.0.0.1"]}}, ...]}
//	    -> {"ok":true,"cases":[{"ok":true,"remote_addr":"127.0.0.1:40000"}
//	                           | {"ok":false,"error":"tls: ...","remote_addr":...}, ...]}
//
//	{"op":"verify","certs":["MII...",...],"leaf":0,"intermediates":[1],"roots":[2],
//	    "time":1906502400,"usages":[["any"],["clientAuth"]],"signers":true}
//	    -> {"ok":true,"parsed":[null,...],"results":[{"ok":true,"chains":[[0,1,2]]}
//	                                                 | {"ok":false,"error":"x509: ..."}, ...],
//	        "signers":[[1],[2],[]]}
//
// The ops are described where they are implemented: files.go (parse, parse_key), hostname.go
// (verify_hostname), listener_san.go (check_cert_san), verify.go (verify), keypair.go
// (x509_key_pair: Go's own tls.X509KeyPair on a certificate file's and a key file's bytes,
// given inline in base64). An unknown op is answered with ok=false
// and the requests after it still are.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// request is one question. Fields beyond op belong to the ops that read them.
type request struct {
	ID      json.RawMessage `json:"id,omitempty"`
	Op      string          `json:"op"`
	File    string          `json:"file,omitempty"`
	FileB64 string          `json:"file_b64,omitempty"`
	DER     string          `json:"der,omitempty"`
	Hosts   []string        `json:"hosts,omitempty"`
	URLs    []string        `json:"urls,omitempty"`
	Cases   []sanCase       `json:"cases,omitempty"`
	// CertPEMB64 and KeyPEMB64 are the bytes of a certificate file and a key file (x509_key_pair).
	CertPEMB64 string `json:"cert_pem_b64,omitempty"`
	KeyPEMB64  string `json:"key_pem_b64,omitempty"`
	chainRequest
}

// answer is one reply: "ok" and "error" are common to all ops, the rest is each op's own.
type answer map[string]interface{}

var ops = map[string]func(request) (answer, error){
	"version":         opVersion,
	"parse":           opParse,
	"parse_key":       opParseKey,
	"verify_hostname": opVerifyHostname,
	"check_cert_san":  opCheckCertSAN,
	"verify":          opVerify,
	"x509_key_pair":   opX509KeyPair,
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		var req request
		var reply answer
		if err := json.Unmarshal([]byte(line), &req); err != nil {
			reply = answer{"ok": false, "error": "bad request: " + err.Error()}
		} else if op, found := ops[req.Op]; !found {
			reply = answer{"ok": false, "error": fmt.Sprintf("unknown op %q", req.Op)}
		} else if a, err := op(req); err != nil {
			reply = answer{"ok": false, "error": err.Error()}
		} else {
			reply = a
			reply["ok"] = true
		}
		if len(req.ID) > 0 {
			reply["id"] = req.ID
		}
		if err := enc.Encode(reply); err != nil {
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "go-oracle:", err)
		os.Exit(1)
	}
}

// opVersion names the Go that built the oracle, the GODEBUG it runs with and the DefaultGODEBUG
// its build recorded (Go 1.21 and later; empty before), so that a test can check that the
// oracle decides as the etcd binary it stands for.
func opVersion(request) (answer, error) {
	defaults := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "DefaultGODEBUG" {
				defaults = s.Value
			}
		}
	}
	return answer{"go": runtime.Version(), "godebug": os.Getenv("GODEBUG"), "default_godebug": defaults}, nil
}
