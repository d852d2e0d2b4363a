// Package localaws runs the local AWS stack: moto_server as a child process, and
// the resources of template.yaml (table, queues, buckets, secret) created in it
// with the names, keys, indexes and queue settings read from the template itself.
// The dev runner and the integration tests use it.
package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// DefaultMotoPort is the moto_server port of the dev runner when MOTO_PORT is unset.
const DefaultMotoPort = "5000"

// notFoundMsg is the error text when moto_server is not on PATH.
const notFoundMsg = "moto_server not found: install moto 5.2.1 with its server extra " +
	"(it is preinstalled on this machine kind; PyPI is not reachable here)"

// MotoAddr returns the moto_server address of the dev runner: 127.0.0.1:$MOTO_PORT,
// or 127.0.0.1:5000 when MOTO_PORT is unset.
func MotoAddr() string {
	port := os.Getenv("MOTO_PORT")
	if port == "" {
		port = DefaultMotoPort
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// Moto is a running moto_server child process.
type Moto struct {
	// Endpoint is the server's base URL, e.g. "http://127.0.0.1:5000".
	Endpoint string

	cmd      *exec.Cmd
	out      *tailBuffer
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// StartMoto starts `moto_server -H HOST -p PORT` in its own process group and
// waits until it answers HTTP. addr is host:port; port 0 picks a free port. ctx
// bounds the start-up only: the server runs until Stop.
//
// Errors: moto_server missing from PATH ("moto_server not found: …"), a fixed port
// already in use (the message names the port and MOTO_PORT), the process exiting
// early (with its last output) or not answering before ctx ends.
func StartMoto(ctx context.Context, addr string) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New(notFoundMsg)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("moto address %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "0" {
		// A free port can be taken by someone else between probing and binding: retry.
		var lastErr error
		for range 3 {
			p, err := freePort(host)
			if err != nil {
				return nil, err
			}
			m, err := startMoto(ctx, bin, host, p)
			if err == nil {
				return m, nil
			}
			lastErr = err
			if ctx.Err() != nil {
				break
			}
		}
		return nil, lastErr
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("moto address %q: bad port", addr)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("moto_server: port %s on %s is already in use (%v); "+
			"stop whatever holds it or set MOTO_PORT to a free port", port, host, err)
	}
	_ = l.Close()
	return startMoto(ctx, bin, host, port)
}

func freePort(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}

func startMoto(ctx context.Context, bin, host, port string) (*Moto, error) {
	out := &tailBuffer{max: 16 << 10}
	cmd := exec.Command(bin, "-H", host, "-p", port)
	cmd.Stdout = out
	cmd.Stderr = out
	// Its own process group (a Ctrl-C reaches the runner, which stops moto in order), and killed with the runner
	// should the runner die without stopping it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	m := &Moto{
		Endpoint: "http://" + net.JoinHostPort(host, port),
		cmd:      cmd,
		out:      out,
		exited:   make(chan struct{}),
	}
	go func() {
		m.waitErr = cmd.Wait()
		close(m.exited)
	}()
	if err := m.waitReady(ctx); err != nil {
		m.Stop()
		return nil, err
	}
	return m, nil
}

// waitReady polls the server until it answers, it exits, or ctx ends.
func (m *Moto) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Endpoint+"/moto-api/", nil)
		if err != nil {
			return fmt.Errorf("moto_server readiness request: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-m.exited:
			return fmt.Errorf("moto_server on %s exited before answering (%v): %s",
				m.Endpoint, m.waitErr, m.out.String())
		case <-ctx.Done():
			return fmt.Errorf("moto_server on %s did not answer: %w; output: %s",
				m.Endpoint, ctx.Err(), m.out.String())
		case <-tick.C:
		}
	}
}

// Stop terminates the server's process group (SIGTERM, then SIGKILL after 5 s)
// and waits for it. It is safe to call more than once.
func (m *Moto) Stop() {
	m.stopOnce.Do(func() {
		pgid := m.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-m.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-m.exited
		}
	})
}

// Output returns the last lines moto_server wrote (for diagnostics).
func (m *Moto) Output() string { return m.out.String() }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
