package io.ollamabalancer.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Replays a {@link Trace} over real sockets against a balancer (or one Ollama server): each request is sent at its
 * trace time (Poisson send times, open loop: a slow answer never delays the next send) as a streaming
 * {@code /api/chat} or {@code /api/generate} with its {@code X-Priority}, and the answer is read line by line. It
 * records end-to-end time (send to last line), time to first token (send to the first streamed line),
 * {@code X-Balancer-Queue-Ms}, {@code X-Balancer-Backend}, {@code X-Balancer-Estimated-Prompt-Tokens}, the final
 * chunk's {@code prompt_eval_count}, {@code eval_count} and {@code load_duration} (as {@link Outcome#loadSeconds()};
 * loads started stay unknown: the simulators count those), and errors (status, error lines, timeouts, resets).
 *
 * <p>Threading: one daemon thread schedules the sends; the JDK HTTP client (HTTP/1.1, a connection per concurrent
 * request) reads answers on its own threads. One replay at a time per instance; {@link #close()} stops the sender.
 */
public final class ReplayClient implements AutoCloseable {
    private static final JsonFactory JSON = new JsonFactory();
    private static final long LEAD_NANOS = 200_000_000L;

    private final URI base;
    private final Duration requestTimeout;
    private final HttpClient http;
    private final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "replay-sender");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param base           the balancer's base URL, e.g. {@code http://127.0.0.1:3000}
     * @param requestTimeout how long one request may take, send to last line
     */
    public ReplayClient(URI base, Duration requestTimeout) {
        this.base = base;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * Sends every request at its time and waits for all answers, at most until {@code drain} after the last send.
     * A request still unanswered then is reported as an error ({@code "unfinished"}).
     */
    public List<Outcome> replay(Trace trace, Duration drain) throws InterruptedException {
        int n = trace.size();
        AtomicReferenceArray<Outcome> results = new AtomicReferenceArray<>(n);
        CountDownLatch done = new CountDownLatch(n);
        long start = System.nanoTime() + LEAD_NANOS;
        for (int i = 0; i < n; i++) {
            int slot = i;
            TraceRequest r = trace.requests().get(i);
            long due = start + (long) (r.at() * 1e9);
            sender.schedule(() -> send(r, slot, due, results, done), due - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        long deadline = start + (long) (trace.span() * 1e9) + drain.toNanos();
        done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        List<Outcome> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Outcome o = results.get(i);
            TraceRequest r = trace.requests().get(i);
            out.add(o != null ? o : Outcome.failed(r.id(), r.priority(), -1, "unfinished"));
        }
        return out;
    }

    private void send(TraceRequest r, int slot, long due, AtomicReferenceArray<Outcome> results,
                      CountDownLatch done) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(r.path())).timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(r.bodyBytes()));
        if (!"normal".equals(r.priority())) {
            b.header("X-Priority", r.priority());
        }
        Lines lines = new Lines();
        long sent = System.nanoTime();
        http.sendAsync(b.build(), HttpResponse.BodyHandlers.fromLineSubscriber(lines)).whenComplete((resp, err) -> {
            long end = lines.lastNanos > 0 ? lines.lastNanos : System.nanoTime();
            double e2e = (end - sent) / 1e9;
            Outcome o;
            if (err != null) {
                o = Outcome.failed(r.id(), r.priority(), e2e, describe(err));
            } else {
                o = outcome(r, resp, lines, sent, e2e);
            }
            results.set(slot, o.withSendLag(Math.max(0, sent - due) / 1e9));
            done.countDown();
        });
    }

    private static Outcome outcome(TraceRequest r, HttpResponse<Void> resp, Lines lines, long sent, double e2e) {
        String backend = resp.headers().firstValue("X-Balancer-Backend").orElse(null);
        double queue = resp.headers().firstValue("X-Balancer-Queue-Ms").map(v -> Long.parseLong(v) / 1000.0)
                .orElse(-1.0);
        int estimate = resp.headers().firstValue("X-Balancer-Estimated-Prompt-Tokens").map(Integer::parseInt)
                .orElse(-1);
        if (resp.statusCode() != 200) {
            return new Outcome(r.id(), r.priority(), backend, e2e, -1, queue,
                    "HTTP " + resp.statusCode() + " " + abbreviate(lines.last), estimate, -1, -1);
        }
        Final f = parseFinal(lines.last);
        if (f.error != null || !f.done) {
            return new Outcome(r.id(), r.priority(), backend, e2e, -1, queue,
                    f.error != null ? f.error : "stream ended without done:true", estimate, -1, -1);
        }
        double ttft = lines.firstNanos > 0 ? (lines.firstNanos - sent) / 1e9 : -1;
        return new Outcome(r.id(), r.priority(), backend, e2e, ttft, queue, null, estimate, f.promptEvalCount,
                f.evalCount, 0, f.loadDurationNanos < 0 ? -1 : f.loadDurationNanos / 1e9, -1);
    }

    /** The fields of a final chunk ({@code done:true}), or its error; {@code load_duration} -1 when absent. */
    record Final(boolean done, String error, int promptEvalCount, int evalCount, long loadDurationNanos) {
    }

    static Final parseFinal(String line) {
        if (line == null || line.isBlank()) {
            return new Final(false, "empty response", -1, -1, -1);
        }
        boolean done = false;
        String error = null;
        int prompt = -1;
        int eval = -1;
        long load = -1;
        try (JsonParser p = JSON.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return new Final(false, "not a JSON object: " + abbreviate(line), -1, -1, -1);
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "done" -> done = t == JsonToken.VALUE_TRUE;
                    case "error" -> error = p.getText();
                    case "prompt_eval_count" -> prompt = p.getIntValue();
                    case "eval_count" -> eval = p.getIntValue();
                    case "load_duration" -> load = t.isNumeric() ? p.getLongValue() : -1;
                    default -> p.skipChildren();
                }
            }
        } catch (IOException e) {
            return new Final(false, "unreadable final line: " + abbreviate(line), -1, -1, -1);
        }
        return new Final(done, error, prompt, eval, load);
    }

    private static String describe(Throwable err) {
        Throwable t = err.getCause() != null ? err.getCause() : err;
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }

    /** Notes when the first and the last line arrived, and keeps the last one. */
    private static final class Lines implements Flow.Subscriber<String> {
        volatile long firstNanos;
        volatile long lastNanos;
        volatile String last;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String line) {
            if (line.isEmpty()) {
                return;
            }
            long now = System.nanoTime();
            if (firstNanos == 0) {
                firstNanos = now;
            }
            lastNanos = now;
            last = line;
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }
    }
}
