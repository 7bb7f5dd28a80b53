package io.ollamabalancer.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A balancer replica in a JVM of its own ({@code java -cp <this test's class path> io.ollamabalancer.cli.Main
 * serve …}), so a test can kill it the way a crash or an OOM killer would: {@link #kill()} sends SIGKILL, with no
 * shutdown hook and no goodbye to Redis; or stop it the way an orchestrator does: {@link #terminate} sends SIGTERM.
 * It runs in an empty temporary working directory (no {@code .env}, no {@code conf/}), listens on a free loopback
 * port, and logs to a file there, from which {@link #awaitListening} reads the port. Its replica id in Redis starts with the given host name ({@code HOSTNAME}, see
 * {@code ClusterConfig}).
 *
 * <p>Not thread-safe: one test thread launches and kills it. {@link #close()} kills it too and deletes its
 * directory.
 */
public final class BalancerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+) ");

    private final Process process;
    private final Path dir;
    private final Path log;
    private int port;

    private BalancerProcess(Process process, Path dir, Path log) {
        this.process = process;
        this.dir = dir;
        this.log = log;
    }

    /**
     * Launches {@code serve} and returns at once; {@link #awaitListening} waits until it listens, so a test can set
     * up other things while the JVM starts.
     *
     * @param backendsJson the backends file's content
     * @param hostName     the start of its replica id
     * @param flags        further {@code serve} options (e.g. {@code --redis-url}, {@code redis://…})
     */
    public static BalancerProcess launch(String backendsJson, String hostName, String... flags) throws IOException {
        Path dir = Files.createTempDirectory("balancer-process-");
        Path backends = Files.writeString(dir.resolve("backends.json"), backendsJson);
        Path log = dir.resolve("balancer.log");
        // C1 only and the serial collector: this JVM lives for seconds on a machine that may be busy, so start-up
        // time matters and peak speed does not.
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "io.ollamabalancer.cli.Main", "serve",
                "--bind", "127.0.0.1", "--port", "0", "--config", backends.toString()));
        cmd.addAll(List.of(flags));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("HOSTNAME", hostName);
        // The test class path carries logback-test.xml (warnings only): INFO shows the "listening on" line.
        pb.environment().put("LOG_LEVEL", "INFO");
        pb.environment().put("ACCESS_LOG_LEVEL", "OFF");
        return new BalancerProcess(pb.start(), dir, log);
    }

    /**
     * Waits until it listens and returns its port; throws, with its log, if it exited or did not listen in time.
     *
     * @param timeout how long a JVM start may take on a busy machine
     */
    public int awaitListening(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (port == 0) {
            Matcher m = LISTENING.matcher(Files.readString(log));
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            } else if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("balancer process did not start (" + (process.isAlive() ? "still running"
                        : "exit " + process.exitValue()) + "): " + Files.readString(log));
            } else {
                Thread.sleep(50);
            }
        }
        return port;
    }

    /** The port it listens on ({@link #awaitListening} first). */
    public int port() {
        if (port == 0) {
            throw new IllegalStateException("not listening yet: call awaitListening first");
        }
        return port;
    }

    /** SIGKILL, and waits until the process is gone (its sockets closed by the kernel). */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("balancer process " + process.pid() + " survived SIGKILL");
        }
    }

    /**
     * SIGTERM ({@link Process#destroy()} on Linux), as {@code docker stop} or Kubernetes send, and waits for the exit.
     *
     * @return the exit status
     */
    public int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("balancer process " + process.pid() + " still runs " + timeout
                    + " after SIGTERM");
        }
        return process.exitValue();
    }

    /** Everything it logged so far. */
    public String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws IOException {
        try {
            if (process.isAlive()) {
                kill();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deleteDir(dir);
    }

    private static void deleteDir(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
