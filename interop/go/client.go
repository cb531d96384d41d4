// Go net/http HTTP/2 client for the interop matrix (TLS, InsecureSkipVerify, ForceAttemptHTTP2);
// standard library only. Prints one line "proto=HTTP/2.0 status=200 len=N sha256=H ..." per call.
//
//	go run client.go get URL | post URL FILE | concurrent URL N | trailers URL
//	| slowpost URL FILE (the first 1 MiB of FILE in 16 chunks, 100 ms apart)
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

var client = &http.Client{Transport: &http.Transport{
	TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
	ForceAttemptHTTP2: true,
}}

func do(req *http.Request) (string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	fmt.Fprintln(os.Stderr, "started") // response headers are in (the goaway cell waits for this)
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return "", err
	}
	tr := ""
	for k, v := range resp.Trailer {
		tr += fmt.Sprintf(" trailer:%s=%s", k, v[0])
	}
	return fmt.Sprintf("proto=%s status=%d len=%d sha256=%s%s", resp.Proto, resp.StatusCode, n,
		hex.EncodeToString(h.Sum(nil)), tr), nil
}

func main() {
	mode, url := os.Args[1], os.Args[2]
	var out string
	var err error
	switch mode {
	case "get":
		req, _ := http.NewRequest("GET", url, nil)
		out, err = do(req)
	case "post":
		data, e := os.ReadFile(os.Args[3])
		if e != nil {
			panic(e)
		}
		req, _ := http.NewRequest("POST", url, bytes.NewReader(data))
		out, err = do(req)
	case "slowpost":
		data, e := os.ReadFile(os.Args[3])
		if e != nil {
			panic(e)
		}
		data = data[:1<<20]
		pr, pw := io.Pipe()
		go func() {
			for i := 0; i < 16; i++ {
				pw.Write(data[i<<16 : (i+1)<<16])
				time.Sleep(100 * time.Millisecond)
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", url, pr)
		out, err = do(req)
	case "trailers":
		body := []byte("request body with trailers\n")
		sum := sha256.Sum256(body)
		req, _ := http.NewRequest("POST", url, io.NopCloser(bytes.NewReader(body)))
		req.ContentLength = -1
		req.Trailer = http.Header{"X-Req-Checksum": {hex.EncodeToString(sum[:])}}
		out, err = do(req)
	case "concurrent":
		n, _ := strconv.Atoi(os.Args[3])
		// Warm up one connection so that the N requests share it.
		req, _ := http.NewRequest("GET", url, nil)
		if _, err = do(req); err != nil {
			break
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, h2 := 0, 0
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("GET", url, nil)
				resp, e := client.Do(req)
				if e != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == 200 {
					ok++
				}
				if resp.ProtoMajor == 2 {
					h2++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		out = fmt.Sprintf("n=%d ok=%d h2=%d", n, ok, h2)
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(out)
}
