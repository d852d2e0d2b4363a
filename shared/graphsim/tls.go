package graphsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Running is a simulator serving HTTPS on a loopback port.
type Running struct {
	Sim   *Sim
	URL   string // "https://127.0.0.1:PORT", no trailing slash
	CAPEM []byte // PEM of the CA certificate that signed the server certificate

	srv       *http.Server
	pool      *x509.CertPool
	closeOnce sync.Once
	closeErr  error
}

// Start serves a simulator with the demo tenants (seed 0) on addr ("127.0.0.1:8081", or ":0" style for a free
// port) over TLS with a freshly generated CA.
func Start(addr string) (*Running, error) { return New(Options{}).Start(addr) }

// Start serves s on addr over TLS with a freshly generated CA and a server certificate for 127.0.0.1, ::1,
// localhost (and the listen address's own host). A port in use fails with an error that wraps syscall.EADDRINUSE.
func (s *Sim) Start(addr string) (*Running, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("graphsim: listen address %q: %w", addr, err)
	}
	caPEM, cert, err := newCertificates(host)
	if err != nil {
		return nil, fmt.Errorf("graphsim: generate certificates: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("graphsim: listen on %s: %w", addr, err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(discard{}, "", 0), // TLS handshake noise from probes
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return &Running{Sim: s, URL: "https://" + urlHost(ln.Addr()), CAPEM: caPEM, srv: srv, pool: pool}, nil
}

// urlHost renders a listener address for a URL: loopback and unspecified addresses become 127.0.0.1 (or [::1]).
func urlHost(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	switch {
	case ip == nil || ip.IsUnspecified() || ip.To4() != nil && ip.IsLoopback():
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsLoopback():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// StartForTest serves a simulator with the demo tenants on a free loopback port for the duration of a test.
func StartForTest(tb testing.TB) *Running {
	tb.Helper()
	return New(Options{}).StartForTest(tb)
}

// StartForTest serves s on a free loopback port for the duration of a test.
func (s *Sim) StartForTest(tb testing.TB) *Running {
	tb.Helper()
	run, err := s.Start("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("start Graph simulator: %v", err)
	}
	tb.Cleanup(func() { _ = run.Close() })
	return run
}

// AuthorityHost is the Entra authority host to configure clients with ("https://127.0.0.1:PORT/").
func (r *Running) AuthorityHost() string { return r.URL + "/" }

// GraphURL is the Graph base URL to configure clients with ("https://127.0.0.1:PORT/v1.0").
func (r *Running) GraphURL() string { return r.URL + "/v1.0" }

// CertPool returns a pool holding the simulator's CA certificate.
func (r *Running) CertPool() *x509.CertPool { return r.pool.Clone() }

// HTTPClient returns a plain HTTP client that trusts the simulator's certificate.
func (r *Running) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: r.CertPool(), MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// WriteCAFile writes the CA certificate (PEM) to path, creating its directory.
func (r *Running) WriteCAFile(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("graphsim: write CA file: %w", err)
		}
	}
	if err := os.WriteFile(path, r.CAPEM, 0o644); err != nil {
		return fmt.Errorf("graphsim: write CA file: %w", err)
	}
	return nil
}

// Close stops the server and closes its connections (requests in flight are cut off).
func (r *Running) Close() error {
	r.closeOnce.Do(func() { r.closeErr = r.srv.Close() })
	return r.closeErr
}

// newCertificates generates a CA and a server certificate it signs, for the loopback names and extraHost.
func newCertificates(extraHost string) (caPEM []byte, leaf tls.Certificate, err error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, leaf, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Seatwise Graph simulator CA", Organization: []string{"Seatwise (local)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, leaf, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, leaf, err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, leaf, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"Seatwise (local)"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 6, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(extraHost); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	} else if ip == nil && extraHost != "" && extraHost != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, extraHost)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, leaf, err
	}
	leaf = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), leaf, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}
