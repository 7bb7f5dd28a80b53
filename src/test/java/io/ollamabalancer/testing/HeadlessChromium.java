package io.ollamabalancer.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A headless Chromium driven over the DevTools protocol with the JDK's WebSocket client: navigate, evaluate
 * JavaScript, take screenshots, and collect everything the page reports as an error (console errors, uncaught
 * exceptions, failed loads). One browser process with a fresh profile per instance; {@link #close()} ends it and
 * deletes the profile.
 *
 * <p>Threading: calls may come from any one test thread; DevTools events arrive on the WebSocket's thread and are
 * only appended to a concurrent list.
 */
public final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(15);

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> calls = new ConcurrentHashMap<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();

    private HeadlessChromium(Process process, Path profile, WebSocket socket) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    /** The browser binary on the PATH ({@code chromium}, {@code chromium-browser}, {@code google-chrome}), or null. */
    public static Path findBinary() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String name : List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")) {
            for (String dir : Pattern.compile(Pattern.quote(java.io.File.pathSeparator)).split(path)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    /**
     * Starts the browser and attaches to its first page, {@code width}×{@code height} CSS pixels.
     *
     * @throws IOException when it cannot be started or does not offer a page in time
     */
    public static HeadlessChromium start(Path binary, int width, int height) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("balancer-chromium");
        Process p = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-port=0",
                "--remote-allow-origins=*", "--window-size=" + width + "," + height,
                "--user-data-dir=" + profile, "about:blank")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            String browserWs = listeningUrl(p);
            URI browser = URI.create(browserWs);
            String pageWs = firstPage(browser.getHost() + ":" + browser.getPort());
            Listener listener = new Listener();
            WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(pageWs), listener).get(10, TimeUnit.SECONDS);
            HeadlessChromium c = new HeadlessChromium(p, profile, ws);
            listener.owner = c;
            c.call("Runtime.enable", null);
            c.call("Log.enable", null);
            c.call("Page.enable", null);
            return c;
        } catch (Exception e) {
            p.destroyForcibly();
            deleteTree(profile);
            throw e instanceof IOException io ? io : new IOException("cannot drive chromium: " + e, e);
        }
    }

    /** Reads the browser's stderr until it says where DevTools listen; keeps draining it afterwards. */
    private static String listeningUrl(Process p) throws IOException, InterruptedException {
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                StringBuilder seen = new StringBuilder();
                for (String line; (line = r.readLine()) != null; ) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    } else if (!url.isDone() && seen.length() < 4000) {
                        seen.append(line).append('\n');
                    }
                }
                url.completeExceptionally(new IOException("chromium exited: " + seen));
            } catch (IOException e) {
                url.completeExceptionally(e);
            }
        }, "chromium-stderr");
        reader.setDaemon(true);
        reader.start();
        try {
            return url.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("chromium did not open its DevTools port in 20 s", e);
        }
    }

    private static String firstPage(String hostPort) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            JsonNode targets = JSON.readTree(Http.get("http://" + hostPort + "/json/list").body());
            for (JsonNode t : targets) {
                if ("page".equals(t.path("type").asText())) {
                    return t.get("webSocketDebuggerUrl").asText();
                }
            }
            Thread.sleep(50); // polling the browser's target list: there is no event to await before attaching
        }
        throw new IOException("chromium offered no page target");
    }

    /** Sends one DevTools command and waits for its result. */
    public JsonNode call(String method, ObjectNode params) throws IOException {
        int id = ids.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
        if (params != null) {
            msg.set("params", params);
        }
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        calls.put(id, answer);
        socket.sendText(JSON.writeValueAsString(msg), true).join(); // one frame at a time, as the JDK requires
        try {
            JsonNode r = answer.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (r.has("error")) {
                throw new IOException(method + " failed: " + r.get("error"));
            }
            return r.path("result");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(method + " interrupted", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException(method + " got no answer: " + e, e);
        } finally {
            calls.remove(id);
        }
    }

    /** Loads {@code url} and waits for its load event. */
    public void navigate(String url) throws IOException {
        call("Page.navigate", JSON.createObjectNode().put("url", url));
        evaluateAsync("new Promise(r => document.readyState === 'complete' ? r(true)"
                + " : addEventListener('load', () => r(true)))");
    }

    /** Evaluates an expression in the page and returns its value (JSON-serialisable values only). */
    public JsonNode evaluate(String expression) throws IOException {
        return result(call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true)), expression);
    }

    /** Like {@link #evaluate} for an expression that yields a promise: waits for it to settle. */
    public JsonNode evaluateAsync(String expression) throws IOException {
        return result(call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true)), expression);
    }

    private static JsonNode result(JsonNode r, String expression) throws IOException {
        if (r.has("exceptionDetails")) {
            throw new IOException("page threw evaluating " + expression + ": " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /** A PNG of the page's top-left {@code width}×{@code height} CSS pixels as rendered now. */
    public byte[] screenshot(int width, int height) throws IOException {
        ObjectNode clip = JSON.createObjectNode().put("x", 0).put("y", 0).put("width", width).put("height", height)
                .put("scale", 1);
        ObjectNode params = JSON.createObjectNode().put("format", "png").put("captureBeyondViewport", true);
        params.set("clip", clip);
        JsonNode r = call("Page.captureScreenshot", params);
        return Base64.getDecoder().decode(r.get("data").asText());
    }

    /** Everything the page reported as an error so far: console errors, uncaught exceptions, failed loads. */
    public List<String> errors() {
        return new ArrayList<>(errors);
    }

    private void event(JsonNode msg) {
        String method = msg.path("method").asText();
        JsonNode p = msg.path("params");
        switch (method) {
            case "Runtime.consoleAPICalled" -> {
                String type = p.path("type").asText();
                if (type.equals("error") || type.equals("assert")) {
                    errors.add("console." + type + ": " + p.path("args"));
                }
            }
            case "Runtime.exceptionThrown" -> errors.add("exception: " + p.path("exceptionDetails"));
            case "Log.entryAdded" -> {
                if ("error".equals(p.path("entry").path("level").asText())) {
                    errors.add("log: " + p.path("entry").path("text").asText() + " "
                            + p.path("entry").path("url").asText());
                }
            }
            default -> {
            }
        }
    }

    @Override
    public void close() {
        socket.abort();
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deleteTree(profile);
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // A leftover temp profile is harmless. The walk throws unchecked when a file goes while it runs: Chromium's
            // helper processes can outlive the browser process by a moment and remove their own temp files (seen in
            // CI: a NoSuchFileException for "Network Persistent State.*" failed DashboardBrowserIT's teardown).
        }
    }

    /** Reassembles text frames into messages and routes answers to their callers, events to {@link #event}. */
    private static final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();
        private volatile HeadlessChromium owner;

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                handle(text);
            }
            ws.request(1);
            return null;
        }

        private void handle(String text) {
            HeadlessChromium c = owner;
            try {
                JsonNode msg = JSON.readTree(text);
                if (msg.has("id")) {
                    CompletableFuture<JsonNode> f = c == null ? null : c.calls.get(msg.get("id").asInt());
                    if (f != null) {
                        f.complete(msg);
                    }
                } else if (c != null) {
                    c.event(msg);
                }
            } catch (IOException e) {
                if (c != null) {
                    c.errors.add("unreadable DevTools message: " + e.getMessage());
                }
            }
        }
    }
}
