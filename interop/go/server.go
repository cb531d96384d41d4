// Go net/http HTTP/2 server (TLS, self-signed certificate generated at start) for the interop
// matrix; standard library only.  go run server.go PORT
//
//	/  /bytes/N  /echo (POST, echoed)  /trailers (body + trailers)  /push (pushes /style.css)
//	/goaway/N: N bytes, paced; srv.Shutdown (graceful GOAWAY) a quarter of the way through.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func main() {
	port := os.Args[1]
	srv := &http.Server{Addr: "127.0.0.1:" + port}
	chunk := []byte(strings.Repeat("x", 65536))
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from go %s (%s)\n", runtime.Version(), r.Proto)
	})
	mux.HandleFunc("/bytes/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/bytes/"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		for n > 0 {
			k := n
			if k > len(chunk) {
				k = len(chunk)
			}
			w.Write(chunk[:k])
			n -= k
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		h := sha256.New()
		body, _ := io.ReadAll(io.TeeReader(r.Body, h))
		w.Header().Set("X-Request-Sha256", hex.EncodeToString(h.Sum(nil)))
		w.Write(body)
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		body := []byte("body with trailers\n")
		sum := sha256.Sum256(body)
		w.Header().Set("Trailer", "X-Checksum, X-Trailer")
		w.Write(body)
		w.Header().Set("X-Checksum", hex.EncodeToString(sum[:]))
		w.Header().Set("X-Trailer", "go")
	})
	mux.HandleFunc("/push", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := w.(http.Pusher); ok {
			p.Push("/style.css", nil)
		}
		fmt.Fprintln(w, `<link rel="stylesheet" href="/style.css">`)
	})
	mux.HandleFunc("/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprintln(w, "body{}")
	})
	mux.HandleFunc("/goaway/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/goaway/"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		sent, shut := 0, false
		for sent < n {
			k := n - sent
			if k > len(chunk) {
				k = len(chunk)
			}
			w.Write(chunk[:k])
			w.(http.Flusher).Flush()
			sent += k
			if !shut && sent >= n/4 {
				shut = true
				go srv.Shutdown(context.Background()) // graceful: GOAWAY, in-flight streams finish
			}
			time.Sleep(3 * time.Millisecond)
		}
	})
	srv.Handler = mux
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{selfSigned()}}
	log.Printf("go %s listening on %s", runtime.Version(), port)
	if err := srv.ListenAndServeTLS("", ""); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
	time.Sleep(2 * time.Second) // ListenAndServeTLS returns at Shutdown; let in-flight streams end
}
