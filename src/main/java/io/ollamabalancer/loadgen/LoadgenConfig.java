package io.ollamabalancer.loadgen;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One load run. Connection {@code i} talks to {@code targets[i % targets.size()]} and sends its requests one after
 * another on a keep-alive connection (reconnecting if the server closes it). A connection stops after
 * {@code warmup + requests} requests (when {@code requests > 0}) or, when {@code duration} is positive, once
 * {@code rampUp + duration} has passed since the start, whichever comes first; the request running then finishes.
 * Immutable.
 *
 * @param targets     base URLs ({@code http://host:port} or {@code https://…})
 * @param path        request path, e.g. {@code /api/generate}
 * @param body        POST body template
 * @param connections concurrent connections (= concurrent streams)
 * @param requests    measured requests per connection; 0 = until {@code duration} ends
 * @param warmup      requests per connection sent first and counted apart (they warm up every JIT on the path)
 * @param duration    run length after the ramp-up; {@link Duration#ZERO} = bounded by {@code requests} only
 * @param rampUp      connection {@code i} starts after {@code rampUp × i / connections}
 * @param timeout     per-request limit, from write to last byte
 * @param threads     event-loop threads of the load generator
 */
public record LoadgenConfig(List<URI> targets, String path, BodyTemplate body, int connections, int requests,
                            int warmup, Duration duration, Duration rampUp, Duration timeout, int threads) {

    public LoadgenConfig {
        targets = List.copyOf(targets);
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(rampUp, "rampUp");
        Objects.requireNonNull(timeout, "timeout");
        require(!targets.isEmpty(), "at least one target is needed");
        for (URI t : targets) {
            require(("http".equals(t.getScheme()) || "https".equals(t.getScheme())) && t.getHost() != null,
                    "a target must be http[s]://host[:port], found " + t);
        }
        require(path.startsWith("/"), "the path must start with '/', found " + path);
        require(connections >= 1, "connections must be >= 1");
        require(requests >= 0 && warmup >= 0, "requests and warmup must be >= 0");
        require(!duration.isNegative() && !rampUp.isNegative(), "durations must not be negative");
        require(requests > 0 || !duration.isZero(), "give a number of requests per connection or a duration");
        require(timeout.toMillis() >= 1, "the timeout must be at least 1ms");
        require(threads >= 1, "threads must be >= 1");
    }

    /** The target of connection {@code i}. */
    public URI target(int connection) {
        return targets.get(connection % targets.size());
    }

    /** Port of a target, with HTTP's (or HTTPS's) default. */
    static int port(URI target) {
        if (target.getPort() >= 0) {
            return target.getPort();
        }
        return "https".equalsIgnoreCase(target.getScheme()) ? 443 : 80;
    }

    /** Upper bound of the whole run (every request is bounded by the timeout); used to stop a stuck run. */
    public Duration bound() {
        Duration work = duration.isZero() ? timeout.multipliedBy((long) warmup + requests)
                : duration.plus(timeout);
        if (requests > 0 && !duration.isZero()) {
            work = min(work, timeout.multipliedBy((long) warmup + requests));
        }
        return rampUp.plus(work).plusSeconds(5);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
