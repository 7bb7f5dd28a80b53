package io.ollamabalancer.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private {@code redis-server} for one test class: started on a free loopback port with persistence off
 * ({@code --save "" --appendonly no}), so a restart comes back empty like a real crash without disk. Never touches
 * the shared server on 6379. Tests that need it call {@link #startOrSkip()}, which skips them (JUnit assumption)
 * when the binary is missing.
 *
 * <p>Not thread-safe: one test thread starts, stops and restarts it. {@link #pause()}/{@link #resume()} send
 * SIGSTOP/SIGCONT so a test can make Redis hang (commands time out) without closing connections.
 */
public final class RedisServerProcess implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/redis-server");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final int port;
    private final boolean clusterMode;
    private final Path dir;
    private Process process;

    private RedisServerProcess(int port, boolean clusterMode) throws IOException {
        this.port = port;
        this.clusterMode = clusterMode;
        this.dir = Files.createTempDirectory("redis-test-");
    }

    /** Starts a standalone server on a free port, or skips the calling test when redis-server is not installed. */
    public static RedisServerProcess startOrSkip() throws IOException, InterruptedException {
        return startOrSkip(false);
    }

    /**
     * @param clusterMode start a single-node Redis Cluster owning all 16384 slots (for the cluster URL form)
     */
    public static RedisServerProcess startOrSkip(boolean clusterMode) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(BINARY), "redis-server not installed at " + BINARY);
        RedisServerProcess p = new RedisServerProcess(freePort(), clusterMode);
        p.start();
        return p;
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:port}, or the cluster form when started in cluster mode. */
    public String url() {
        return (clusterMode ? "redis-cluster://" : "redis://") + "127.0.0.1:" + port;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Starts the server (again) on the same port; it comes up empty. */
    public void start() throws IOException, InterruptedException {
        if (isRunning()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of(BINARY.toString(),
                "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--protected-mode", "no", "--dir", dir.toString(), "--loglevel", "warning"));
        if (clusterMode) {
            Files.deleteIfExists(dir.resolve("nodes.conf"));
            // A lone node never learns its own address from peers; announce it so clients can map the slots.
            cmd.addAll(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-announce-ip", "127.0.0.1"));
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!ping()) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited: " + Files.readString(dir.resolve("redis.log")));
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("redis-server did not answer PING on port " + port);
            }
            Thread.sleep(20);
        }
        if (clusterMode) {
            command("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
            while (!command("CLUSTER", "INFO").contains("cluster_state:ok")) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("single-node cluster did not become ok");
                }
                Thread.sleep(20);
            }
        }
    }

    /** Kills the server (SIGKILL: no shutdown save, connections drop like a crash). */
    public void stop() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            process = null;
        }
    }

    public void restart() throws IOException, InterruptedException {
        stop();
        start();
    }

    /** Freezes the server: connections stay open, commands get no answer. */
    public void pause() throws IOException, InterruptedException {
        signal("-STOP");
    }

    public void resume() throws IOException, InterruptedException {
        signal("-CONT");
    }

    /** Sends one command over a fresh connection and returns the raw reply text (tests only; blocking). */
    public String command(String... args) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(2000);
            StringBuilder req = new StringBuilder("*").append(args.length).append("\r\n");
            for (String a : args) {
                req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a)
                        .append("\r\n");
            }
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return readReply(s.getInputStream());
        }
    }

    private static String readReply(InputStream in) throws IOException {
        String line = readLine(in);
        char type = line.charAt(0);
        if (type == '$') {
            int len = Integer.parseInt(line.substring(1));
            if (len < 0) {
                return "";
            }
            byte[] body = in.readNBytes(len + 2);
            return new String(body, 0, len, StandardCharsets.UTF_8);
        }
        if (type == '*') {
            int n = Integer.parseInt(line.substring(1));
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                sb.append(readReply(in)).append('\n');
            }
            return sb.toString();
        }
        return line.substring(1);
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\r') {
                in.read();
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    private boolean ping() {
        try {
            return "PONG".equals(command("PING"));
        } catch (IOException e) {
            return false;
        }
    }

    private void signal(String sig) throws IOException, InterruptedException {
        if (process != null) {
            new ProcessBuilder("kill", sig, Long.toString(process.pid())).start().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
