// pulumi-language-nodejs for the harness's Pulumi CLI: a wrapper in front of the real Node.js language host.
//
// The only Node.js language host the Go module proxy serves is the one in sdk/v3@v3.68.0 (see
// scripts/lib/build-pulumi.sh). CLI v3.259 starts Node.js policy packs (`pulumi preview --policy-pack DIR`)
// through the language host's RunPlugin RPC, which that host answers with "not supported"
// ("could not read plugin [policy]: not supported"). This wrapper starts the real host
// (<dir of this binary>/../libexec/pulumi-language-nodejs) with the same arguments, forwards every RPC to it
// as raw bytes, and answers RunPlugin for policy packs itself, the way later hosts do: it runs
// `node <node_modules>/@pulumi/pulumi/cmd/run-policy-pack [args] <pack dir>` in the pack's directory and
// streams the output and exit code back.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const (
	runPluginMethod = "/pulumirpc.LanguageRuntime/RunPlugin"
	// The CLI's own limit (rpcutil.MaxRPCMessageSize).
	maxMessageSize = 400 * 1024 * 1024
)

// frame is a message relayed without decoding it.
type frame struct{ payload []byte }

// codec passes frames through as they are and (un)marshals anything else as protobuf.
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) ([]byte, error) {
	if f, ok := v.(*frame); ok {
		return f.payload, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (codec) Unmarshal(data []byte, v any) error {
	if f, ok := v.(*frame); ok {
		f.payload = append([]byte(nil), data...)
		return nil
	}
	return proto.Unmarshal(data, v.(proto.Message))
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs (wrapper): %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	hostPath := filepath.Join(filepath.Dir(self), "..", "libexec", "pulumi-language-nodejs")

	// The real host prints its port on its first line of output, like every plugin.
	host := exec.Command(hostPath, os.Args[1:]...)
	host.Stdin, host.Stderr = os.Stdin, os.Stderr
	hostOut, err := host.StdoutPipe()
	if err != nil {
		return err
	}
	if err := host.Start(); err != nil {
		return fmt.Errorf("starting the real language host: %w", err)
	}
	defer func() { _ = host.Process.Kill() }()
	lines := bufio.NewReader(hostOut)
	line, err := lines.ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the real language host's port: %w", err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(line),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec{}),
			grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)))
	if err != nil {
		return err
	}
	defer conn.Close()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := grpc.NewServer(
		grpc.ForceServerCodec(codec{}),
		grpc.MaxRecvMsgSize(maxMessageSize), grpc.MaxSendMsgSize(maxMessageSize),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			method, _ := grpc.MethodFromServerStream(stream)
			if method == runPluginMethod {
				return runPolicyPack(stream)
			}
			return forward(conn, method, stream)
		}))
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)
	go func() { _, _ = io.Copy(os.Stdout, lines) }()

	// The CLI stops its language host with SIGINT (then SIGKILL) to the process group, which the real host
	// is part of; a signal sent to this process alone is passed on. Either way this process ends with it.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range signals {
			_ = host.Process.Signal(s)
		}
	}()

	served := make(chan error, 1)
	go func() { served <- server.Serve(lis) }()
	exited := make(chan error, 1)
	go func() { exited <- host.Wait() }()
	select {
	case err := <-served:
		return err
	case err := <-exited:
		server.Stop()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && exitErr.ExitCode() > 0 {
			os.Exit(exitErr.ExitCode())
		}
		return nil // it exited cleanly, or by the signal that stopped it
	}
}

// forward relays one call, unary or streaming, to the real host and its answer back, headers and trailers
// included; the call ends with the real host's status.
func forward(conn *grpc.ClientConn, method string, stream grpc.ServerStream) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	md, _ := metadata.FromIncomingContext(ctx)
	ctx = metadata.NewOutgoingContext(ctx, md)
	client, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, method)
	if err != nil {
		return err
	}

	// Requests, until the CLI closes its side. If sending fails, the real host has ended the call: its
	// status comes out of RecvMsg below. If the CLI cancels the call, so does ctx.
	go func() {
		for {
			var f frame
			if err := stream.RecvMsg(&f); err != nil {
				_ = client.CloseSend()
				return
			}
			if err := client.SendMsg(&f); err != nil {
				return
			}
		}
	}()

	// Responses, until the real host ends the call.
	if header, err := client.Header(); err == nil && len(header) > 0 {
		if err := stream.SendHeader(header); err != nil {
			return err
		}
	}
	for {
		var f frame
		if err := client.RecvMsg(&f); err != nil {
			stream.SetTrailer(client.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := stream.SendMsg(&f); err != nil {
			return err
		}
	}
}

// runPolicyPack answers RunPlugin for a policy pack (kind "analyzer"): it runs the pack with
// @pulumi/pulumi's run-policy-pack, from the pack's node_modules, in the pack's directory, with the engine's
// arguments, the pack last. Its output is streamed back, then its exit code. The CLI ends the pack by
// cancelling the call.
func runPolicyPack(stream grpc.ServerStream) error {
	req := &pulumirpc.RunPluginRequest{}
	if err := stream.RecvMsg(req); err != nil {
		return err
	}
	if req.GetKind() != "analyzer" {
		return status.Errorf(codes.Unimplemented, "RunPlugin: only policy packs are supported, not kind %q", req.GetKind())
	}
	dir := req.GetInfo().GetProgramDirectory()
	runner, err := findModule(dir, "@pulumi/pulumi/cmd/run-policy-pack")
	if err != nil {
		return status.Errorf(codes.FailedPrecondition, "%v: run npm install", err)
	}

	args := append(append([]string{runner}, req.GetArgs()...), dir)
	cmd := exec.CommandContext(stream.Context(), "node", args...)
	cmd.Dir = dir
	cmd.Env = req.GetEnv() // the CLI's whole environment; none means this process's
	var mu sync.Mutex      // stdout and stderr are copied by two goroutines
	send := func(r *pulumirpc.RunPluginResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.SendMsg(r)
	}
	cmd.Stdout = writerFunc(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	})
	cmd.Stderr = writerFunc(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	})
	err = cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return status.Errorf(codes.Internal, "running the policy pack: %v", err)
	}
	code := int32(cmd.ProcessState.ExitCode())
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// writerFunc is an io.Writer that hands each write to a function. The bytes are sent before Write returns,
// so they need not be copied.
type writerFunc func([]byte) error

func (w writerFunc) Write(b []byte) (int, error) {
	if err := w(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// findModule finds node_modules/<module> in dir or the nearest of its parents that has it, as Node does.
func findModule(dir, module string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "node_modules", module)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no node_modules/%s in %s or above", module, dir)
		}
	}
}
