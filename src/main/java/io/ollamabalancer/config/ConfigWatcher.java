package io.ollamabalancer.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Watches the backends file ({@code containers.config.json}) and hands every valid change to a listener; through
 * {@link #watch} the same for another file (the API keys).
 *
 * <p>Two triggers: a {@link WatchService} on the file's parent directory (so editors that save by writing a new
 * file and renaming it over the old one are seen), and a poll every {@code pollInterval} because watch services
 * miss changes on some filesystems (network mounts, some container volumes) or are emulated by slow polling. A
 * watch event is debounced: the file is read once no further event came for {@code debounce}, so a save in
 * several writes is read once, whole.
 *
 * <p>A change is the file's bytes hashing differently from the last read (size and time stamps are not trusted:
 * coarse time stamps miss quick rewrites, and the file is small). New bytes are parsed only once a second read, at
 * least the settle time later ({@code debounce}, at least {@value #MIN_SETTLE_MILLIS} ms), sees the same bytes:
 * many writers truncate the file and then write it, and a read in between would see an empty (perhaps even
 * parseable) file and retire every backend. A settled change is parsed with the injected loader; the listener is called only when the parsed list differs from the current one, so rewriting the same
 * content, or reformatting it, calls nothing. A file that does not parse or cannot be read logs one warning line
 * (per distinct content) and the current backends stay.
 *
 * <p>A listener that throws is logged; the change still counts as delivered (it is not retried on every poll).
 *
 * <p>Threading: one daemon thread, {@code config-watcher}, does all reading, parsing and listener calls; the
 * listener must not block for long. {@link #close()} stops it; safe from any thread.
 */
public final class ConfigWatcher<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
    private static final long MIN_SETTLE_MILLIS = 50;

    /**
     * @param debounce        quiet time after the last watch event before the file is read (default 300 ms)
     * @param pollInterval    time between two polls of the file, whatever the watch service says (default 5 s)
     * @param useWatchService {@code false} polls only
     */
    public record Options(Duration debounce, Duration pollInterval, boolean useWatchService) {
        public Options {
            Objects.requireNonNull(debounce, "debounce");
            Objects.requireNonNull(pollInterval, "pollInterval");
            if (debounce.isNegative() || pollInterval.isNegative() || pollInterval.isZero()) {
                throw new IllegalArgumentException("debounce must be >= 0 and pollInterval > 0");
            }
        }

        public static Options defaults() {
            return new Options(Duration.ofMillis(300), Duration.ofSeconds(5), true);
        }
    }

    private final Path file;
    private final Function<Path, T> loader;
    private final Consumer<T> listener;
    private final BiFunction<T, T, String> describe;
    private final String what;
    private final Options options;
    private final Thread thread;
    private final AtomicLong scans = new AtomicLong();
    private volatile boolean closed;
    private volatile WatchService watch;
    private volatile T current;
    private byte[] lastHash;
    private byte[] pendingHash;
    private long pendingSinceNanos;
    private long settleNanos;
    private String lastProblem;

    private ConfigWatcher(Path file, T current, Function<Path, T> loader, Consumer<T> listener,
                          BiFunction<T, T, String> describe, String what, Options options) {
        this.file = file.toAbsolutePath().normalize();
        this.current = current;
        this.loader = loader;
        this.listener = listener;
        this.describe = describe;
        this.what = what;
        this.options = options;
        this.thread = new Thread(this::run, "config-watcher");
        thread.setDaemon(true);
    }

    /**
     * Starts watching. The file is read once at once, so a change made between the caller's own load and this
     * call is not lost.
     *
     * @param file     the backends file
     * @param current  the backends in force now (what the caller loaded at start-up)
     * @param loader   parses and validates the file; throws on an invalid one
     * @param listener gets each new, different, valid list
     */
    public static ConfigWatcher<List<BackendConfig>> start(Path file, List<BackendConfig> current,
                                      Function<Path, List<BackendConfig>> loader,
                                      Consumer<List<BackendConfig>> listener, Options options) {
        return watch(file, List.copyOf(current), f -> List.copyOf(loader.apply(f)), listener,
                ConfigWatcher::describeChange, "backends", options);
    }

    /**
     * Starts watching a file of another kind (the API keys): the same settling, hashing and keep-the-last-good-one
     * rules, with {@code what} naming the content in log lines and {@code describe} summarising a change.
     *
     * @param current  the content in force now; compared with {@code equals} to each new parse
     * @param loader   parses and validates the file; throws on an invalid one
     * @param describe a one-line summary of a change from the first to the second
     */
    public static <T> ConfigWatcher<T> watch(Path file, T current, Function<Path, T> loader, Consumer<T> listener,
                                             BiFunction<T, T, String> describe, String what, Options options) {
        ConfigWatcher<T> w = new ConfigWatcher<>(file, current, loader, listener, describe, what, options);
        if (options.useWatchService()) {
            w.watch = w.openWatch();
        }
        w.thread.start();
        return w;
    }

    /** The content last handed to the listener (or given at start). */
    public T current() {
        return current;
    }

    /** How many times the file was looked at (for tests: proof that a rewrite was seen and ignored). */
    long scans() {
        return scans.get();
    }

    @Override
    public void close() {
        closed = true;
        closeWatch();
        thread.interrupt();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    boolean isRunning() {
        return thread.isAlive();
    }

    private WatchService openWatch() {
        Path dir = file.getParent();
        try {
            WatchService ws = FileSystems.getDefault().newWatchService();
            dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
            return ws;
        } catch (IOException | UnsupportedOperationException e) {
            log.info("cannot watch {} ({}); polling it every {} ms instead", dir, e.getMessage(),
                    options.pollInterval().toMillis());
            return null;
        }
    }

    private void closeWatch() {
        WatchService ws = watch;
        watch = null;
        if (ws != null) {
            try {
                ws.close();
            } catch (IOException ignored) {
                // closing is best effort; the thread stops on the flag anyway
            }
        }
    }

    private void run() {
        long pollNanos = options.pollInterval().toNanos();
        long debounceNanos = options.debounce().toNanos();
        settleNanos = Math.max(debounceNanos, TimeUnit.MILLISECONDS.toNanos(MIN_SETTLE_MILLIS));
        long nextPoll = System.nanoTime();
        boolean dirty = false;
        long lastEvent = 0;
        boolean recheck = false;
        long recheckAt = 0;
        while (!closed) {
            long now = System.nanoTime();
            if ((dirty && now - lastEvent >= debounceNanos) || (recheck && now - recheckAt >= 0)
                    || now - nextPoll >= 0) {
                dirty = false;
                recheck = scanSafely();
                now = System.nanoTime();
                recheckAt = now + settleNanos;
                nextPoll = now + pollNanos;
            }
            long waitNanos = nextPoll - now;
            if (dirty) {
                waitNanos = Math.min(waitNanos, lastEvent + debounceNanos - now);
            }
            if (recheck) {
                waitNanos = Math.min(waitNanos, recheckAt - now);
            }
            waitNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), waitNanos);
            try {
                if (awaitEvent(waitNanos)) {
                    dirty = true;
                    lastEvent = System.nanoTime();
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    /** Waits up to {@code nanos} for a watch event about our file; sleeps when there is no watch service. */
    private boolean awaitEvent(long nanos) throws InterruptedException {
        WatchService ws = watch;
        if (ws == null) {
            TimeUnit.NANOSECONDS.sleep(nanos);
            return false;
        }
        WatchKey key = ws.poll(nanos, TimeUnit.NANOSECONDS);
        if (key == null) {
            return false;
        }
        boolean ours = false;
        for (WatchEvent<?> e : key.pollEvents()) {
            if (e.kind() == StandardWatchEventKinds.OVERFLOW
                    || (e.context() instanceof Path p && p.equals(file.getFileName()))) {
                ours = true;
            }
        }
        if (!key.reset()) {
            log.info("watch on {} ended (directory gone?); polling only", file.getParent());
            closeWatch();
        }
        return ours;
    }

    /** Scans once; returns whether new bytes wait for a second read to settle. */
    private boolean scanSafely() {
        try {
            return scan();
        } catch (RuntimeException e) {
            // Never let the watcher die: a bug in a listener must not stop future reloads.
            log.warn("reloading {} failed: {}", file, String.valueOf(e));
            return false;
        } finally {
            scans.incrementAndGet();
        }
    }

    private boolean scan() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            problem("missing", file + " is missing; keeping the current " + what);
            return false;
        } catch (IOException e) {
            problem("unreadable " + e.getMessage(), "cannot read " + file + " (" + e.getMessage()
                    + "); keeping the current " + what);
            return false;
        }
        byte[] hash = sha256(bytes);
        if (Arrays.equals(hash, lastHash)) {
            pendingHash = null;
            return false;
        }
        if (!Arrays.equals(hash, pendingHash)) {
            pendingHash = hash;
            pendingSinceNanos = System.nanoTime();
            return true;
        }
        if (System.nanoTime() - pendingSinceNanos < settleNanos) {
            return true;
        }
        pendingHash = null;
        lastHash = hash;
        lastProblem = null;
        T next;
        try {
            next = loader.apply(file);
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            log.warn("{} is invalid, keeping the current {}: {}", file, what, why.replace('\n', ' '));
            return false;
        }
        if (next.equals(current)) {
            log.debug("{} rewritten without a change to the {}", file, what);
            return false;
        }
        T before = current;
        current = next;
        log.info("{} changed: {}", file, describe.apply(before, next));
        listener.accept(next);
        return false;
    }

    private static String describeChange(List<BackendConfig> before, List<BackendConfig> next) {
        try {
            return BackendsDiff.between(before, next).summary();
        } catch (IllegalArgumentException e) {
            return next.size() + " backend(s)";
        }
    }

    /** Logs a read problem once until the file reads again (the hash is reset so the next good read reloads). */
    private void problem(String key, String message) {
        lastHash = null;
        pendingHash = null;
        if (!key.equals(lastProblem)) {
            lastProblem = key;
            log.warn(message);
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
