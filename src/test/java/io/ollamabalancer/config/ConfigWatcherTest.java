package io.ollamabalancer.config;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Real files in a temp dir, real watcher thread; waits are bounded awaits on observable progress (the listener, the
 * log, the watcher's scan count), never fixed sleeps.
 */
class ConfigWatcherTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Path file;
    private final List<List<BackendConfig>> delivered = new CopyOnWriteArrayList<>();
    private final AtomicInteger loads = new AtomicInteger();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(ConfigWatcher.class);
    private ConfigWatcher<List<BackendConfig>> watcher;

    @BeforeEach
    void setUp() throws IOException {
        file = dir.resolve("containers.config.json");
        write("a http://127.0.0.1:1 2\n");
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void tearDown() {
        if (watcher != null) {
            watcher.close();
        }
        logger.detachAppender(logs);
    }

    @Test
    void aChangeSeenByTheWatchServiceIsDelivered() throws IOException {
        // Polling is an hour away: only the watch service can see this change in time.
        start(new ConfigWatcher.Options(Duration.ofMillis(50), Duration.ofHours(1), true));

        write("a http://127.0.0.1:1 2\nb http://127.0.0.1:2 4\n");

        await().atMost(WAIT).until(() -> delivered.size() == 1);
        assertThat(delivered.get(0)).containsExactly(cfg("a", 1, 2), cfg("b", 2, 4));
        assertThat(watcher.current()).isEqualTo(delivered.get(0));
    }

    @Test
    void pollingAloneSeesAChange() throws IOException {
        start(new ConfigWatcher.Options(Duration.ZERO, Duration.ofMillis(50), false));

        write("a http://127.0.0.1:1 3\n");

        await().atMost(WAIT).until(() -> delivered.size() == 1);
        assertThat(delivered.get(0)).containsExactly(cfg("a", 1, 3));
    }

    @Test
    void anEditorStyleReplaceByRenameIsSeen() throws IOException {
        start(new ConfigWatcher.Options(Duration.ofMillis(50), Duration.ofHours(1), true));

        Path tmp = dir.resolve(".containers.config.json.swp");
        Files.writeString(tmp, "z http://127.0.0.1:9 1\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

        await().atMost(WAIT).until(() -> delivered.size() == 1);
        assertThat(delivered.get(0)).containsExactly(cfg("z", 9, 1));
    }

    @Test
    void anInvalidEditWarnsOnceAndKeepsTheOldConfigUntilFixed() throws IOException {
        start(new ConfigWatcher.Options(Duration.ZERO, Duration.ofMillis(30), true));
        List<BackendConfig> before = watcher.current();

        write("a http://127.0.0.1:1 not-a-number\n");
        await().atMost(WAIT).until(() -> warnings().size() == 1);
        long scans = watcher.scans();
        await().atMost(WAIT).until(() -> watcher.scans() >= scans + 3);

        assertThat(warnings()).hasSize(1);
        assertThat(warnings().get(0)).contains("invalid").contains("not-a-number");
        assertThat(delivered).isEmpty();
        assertThat(watcher.current()).isEqualTo(before);

        write("a http://127.0.0.1:1 5\n");
        await().atMost(WAIT).until(() -> delivered.size() == 1);
        assertThat(delivered.get(0)).containsExactly(cfg("a", 1, 5));
    }

    @Test
    void aFileReadHalfWrittenIsNotLoadedBeforeItSettles() throws IOException {
        // Settle time 2 s, polls every 20 ms: the empty file is read many times within the settle time.
        start(new ConfigWatcher.Options(Duration.ofSeconds(2), Duration.ofMillis(20), false));
        await().atMost(WAIT).until(() -> watcher.scans() >= 1);

        write(""); // a writer that truncates first, then stalls
        long scans = watcher.scans();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> watcher.scans() >= scans + 3);
        write("a http://127.0.0.1:1 2\nb http://127.0.0.1:2 2\n");

        await().atMost(WAIT).until(() -> !delivered.isEmpty());
        assertThat(delivered.get(0)).containsExactly(cfg("a", 1, 2), cfg("b", 2, 2));
    }

    @Test
    void rewritingTheSameBackendsCallsNothing() throws IOException {
        start(new ConfigWatcher.Options(Duration.ZERO, Duration.ofMillis(30), true));
        await().atMost(WAIT).until(() -> watcher.scans() >= 1);
        int loadsBefore = loads.get();

        write("a http://127.0.0.1:1 2\n"); // same bytes: not even parsed
        long scans = watcher.scans();
        await().atMost(WAIT).until(() -> watcher.scans() >= scans + 3);
        assertThat(loads.get()).isEqualTo(loadsBefore);

        write("\n\na   http://127.0.0.1:1   2\n\n"); // other bytes, same backends: parsed, not delivered
        await().atMost(WAIT).until(() -> loads.get() > loadsBefore);
        long scans2 = watcher.scans();
        await().atMost(WAIT).until(() -> watcher.scans() >= scans2 + 2);

        assertThat(delivered).isEmpty();
        assertThat(warnings()).isEmpty();
    }

    @Test
    void aChangeMadeBeforeStartIsNotLost() throws IOException {
        List<BackendConfig> stale = List.of(cfg("old", 7, 1));
        watcher = ConfigWatcher.start(file, stale, this::load, delivered::add,
                new ConfigWatcher.Options(Duration.ZERO, Duration.ofHours(1), false));

        await().atMost(WAIT).until(() -> delivered.size() == 1);
        assertThat(delivered.get(0)).containsExactly(cfg("a", 1, 2));
    }

    @Test
    void aMissingFileWarnsOnceAndItsReturnReloads() throws IOException {
        start(new ConfigWatcher.Options(Duration.ZERO, Duration.ofMillis(30), false));
        await().atMost(WAIT).until(() -> watcher.scans() >= 1);

        Files.delete(file);
        await().atMost(WAIT).until(() -> warnings().size() == 1);
        long scans = watcher.scans();
        await().atMost(WAIT).until(() -> watcher.scans() >= scans + 3);
        assertThat(warnings()).hasSize(1);
        assertThat(warnings().get(0)).contains("missing");

        write("b http://127.0.0.1:2 1\n");
        await().atMost(WAIT).until(() -> delivered.size() == 1);
        assertThat(delivered.get(0)).containsExactly(cfg("b", 2, 1));
    }

    @Test
    void aThrowingListenerDoesNotStopTheWatcher() throws IOException {
        List<List<BackendConfig>> seen = new CopyOnWriteArrayList<>();
        watcher = ConfigWatcher.start(file, load(file), this::load, list -> {
            seen.add(list);
            throw new IllegalStateException("listener bug");
        }, new ConfigWatcher.Options(Duration.ZERO, Duration.ofMillis(30), false));

        write("a http://127.0.0.1:1 7\n");
        await().atMost(WAIT).until(() -> seen.size() == 1);
        write("a http://127.0.0.1:1 8\n");
        await().atMost(WAIT).until(() -> seen.size() == 2);
        assertThat(seen.get(1)).containsExactly(cfg("a", 1, 8));
    }

    @Test
    void closeStopsTheThread() {
        start(new ConfigWatcher.Options(Duration.ZERO, Duration.ofHours(1), true));
        assertThat(watcher.isRunning()).isTrue();

        watcher.close();

        await().atMost(WAIT).until(() -> !watcher.isRunning());
    }

    private void start(ConfigWatcher.Options options) {
        watcher = ConfigWatcher.start(file, load(file), this::load, delivered::add, options);
    }

    private void write(String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    private List<String> warnings() {
        List<String> out = new ArrayList<>();
        for (ILoggingEvent e : logs.list) {
            if (e.getLevel() == Level.WARN) {
                out.add(e.getFormattedMessage());
            }
        }
        return out;
    }

    /** A stand-in for the CLI's JSON loader: one "name url maxConcurrency" per line; throws on a bad line. */
    private List<BackendConfig> load(Path path) {
        loads.incrementAndGet();
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<BackendConfig> out = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            if (f.length != 3) {
                throw new IllegalArgumentException("expected 'name url max' but got '" + line + "'");
            }
            try {
                out.add(new BackendConfig(f[0], URI.create(f[1]), Integer.parseInt(f[2]), null, true));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("maxConcurrency '" + f[2] + "' is not a number");
            }
        }
        return out;
    }

    private static BackendConfig cfg(String name, int port, int max) {
        return new BackendConfig(name, URI.create("http://127.0.0.1:" + port), max, null, true);
    }
}
